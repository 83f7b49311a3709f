import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisSinkConfig } from '../../config/Config.ts';
import type { Batch } from '../../spool/Batch.ts';
import type { Sink, WriteResult } from '../Sink.ts';
import { BATCH_SCRIPT } from './batchScript.ts';
import { classifyRedisError } from './classifyRedisError.ts';
import { RedisBatchBuilder } from './RedisBatchBuilder.ts';
import type { CollapsingLog } from '../../log/CollapsingLog.ts';

type ScriptClient = Redis & { edgebridgeBatch(argv: string[]): Promise<[number, number, number]> };

export interface RedisSinkOptions {
  readonly config: RedisSinkConfig;
  readonly logger: Logger;
  readonly collapsed: CollapsingLog;
  /** Extra ioredis options (tests); the offline queue stays off whatever is passed. */
  readonly redisOptions?: RedisOptions;
}

/**
 * Latest values and streams in Redis, one round trip per batch (a Lua call, EVALSHA after the first).
 * The offline queue is off: while Redis is down a write fails at once and the worker's breaker decides,
 * instead of ioredis piling commands up in RAM.
 */
export class RedisSink implements Sink {
  readonly name: string;
  readonly type = 'redis';
  readonly #config: RedisSinkConfig;
  readonly #logger: Logger;
  readonly #collapsed: CollapsingLog;
  readonly #builder: RedisBatchBuilder;
  readonly #extra: RedisOptions;
  #client: ScriptClient | undefined;

  constructor(options: RedisSinkOptions) {
    this.name = options.config.name;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#collapsed = options.collapsed;
    this.#builder = new RedisBatchBuilder(options.config);
    this.#extra = options.redisOptions ?? {};
  }

  async start(): Promise<void> {
    const c = this.#config;
    const client = new Redis(c.url, {
      ...this.#extra,
      ...(c.username ? { username: c.username } : {}),
      ...(c.password ? { password: c.password } : {}),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: c.resilience.timeoutMs,
      connectTimeout: c.resilience.timeoutMs,
      // ioredis keeps reconnecting on its own; cap the interval so a returning server is found within 5 s.
      retryStrategy: (times: number) => Math.min(times * 250, 5000),
    }) as ScriptClient;
    client.defineCommand('edgebridgeBatch', { numberOfKeys: 0, lua: BATCH_SCRIPT });
    client.on('error', (error: Error) => {
      this.#collapsed.warn(`redis:${this.name}:${error.message}`, { sink: this.name, err: error.message }, 'redis connection error');
    });
    client.on('ready', () => this.#logger.info({}, 'redis connected'));
    this.#client = client;
    // Connect in the background: the gateway starts even when Redis is down.
    client.connect().catch(() => {});
  }

  async write(batch: Batch, signal: AbortSignal): Promise<WriteResult> {
    const client = this.#client;
    if (client === undefined) throw new Error('RedisSink used before start()');
    signal.throwIfAborted();
    const built = this.#builder.build(batch);
    const reason = built.firstError === undefined ? undefined : `unparsable line: ${built.firstError}`;
    if (built.points === 0) return { accepted: 0, rejected: built.rejected, ...(reason ? { reason } : {}) };
    let duplicates = 0;
    try {
      const [, , skipped] = await client.edgebridgeBatch(built.argv);
      duplicates = skipped;
    } catch (e) {
      const error = classifyRedisError(e);
      if (error.retryable) throw error;
      return { accepted: 0, rejected: batch.points, reason: error.message };
    }
    return { accepted: built.points, rejected: built.rejected, duplicates, ...(reason ? { reason } : {}) };
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  }
}
