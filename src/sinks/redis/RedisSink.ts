import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisSinkConfig } from '../../config/Config.ts';
import type { Batch } from '../../spool/Batch.ts';
import { isolateBadPoints, type RejectedPointsListener } from '../isolateBadPoints.ts';
import type { Sink, WriteResult } from '../Sink.ts';
import { SinkError } from '../SinkError.ts';
import { classifyRedisError, isAuthReply } from './classifyRedisError.ts';
import { createRedisConnection } from './createRedisConnection.ts';
import { RedisBatchBuilder } from './RedisBatchBuilder.ts';
import { SentinelTlsDiagnosis } from './SentinelTlsDiagnosis.ts';
import type { RedisWriter } from './RedisWriter.ts';
import type { CollapsingLog } from '../../log/CollapsingLog.ts';
import { describeTlsError } from '../../tls/describeTlsError.ts';
import type { ResolvedTls } from '../../tls/resolveTls.ts';

/** How long a clean QUIT may take at shutdown before the connection is simply closed. */
const QUIT_TIMEOUT_MS = 1000;

export interface RedisSinkOptions {
  readonly config: RedisSinkConfig;
  readonly logger: Logger;
  readonly collapsed: CollapsingLog;
  /** Extra ioredis options (tests); the offline queue stays off whatever is passed. */
  readonly redisOptions?: RedisOptions;
  /** Told about each entry Redis refused, with its error reply: the gateway's dead letter. */
  readonly onRejected?: RejectedPointsListener;
}

/**
 * Latest values and streams in Redis: one round trip per batch (a Lua call, EVALSHA after the first) on a
 * standalone server or a Sentinel-managed master, one call per hash slot on a Cluster (see `RedisWriter`).
 *
 * Credentials refused (WRONGPASS, NOAUTH, NOPERM) are a config problem, not a data problem: the batch is kept,
 * the error is classified `auth` (the breaker opens and /readyz and /status say "auth: Redis refused the
 * credentials…"), and ioredis re-tries the login only every `breakerHalfOpenAfterMs`, so a fix on the server side
 * (an ACL user added, a password rotated back) is picked up without a restart and without hammering the server.
 */
export class RedisSink implements Sink {
  readonly name: string;
  readonly type = 'redis';
  #config: RedisSinkConfig;
  readonly #logger: Logger;
  readonly #collapsed: CollapsingLog;
  readonly #builder: RedisBatchBuilder;
  readonly #extra: RedisOptions;
  readonly #onRejected: RejectedPointsListener | undefined;
  #client: Redis | Cluster | undefined;
  #writer: RedisWriter | undefined;
  /** The last connection-level error (cleared when connected): explains "not connected" to the worker. */
  #connectionError: Error | undefined;

  constructor(options: RedisSinkOptions) {
    this.name = options.config.name;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#collapsed = options.collapsed;
    this.#builder = new RedisBatchBuilder(options.config);
    this.#extra = options.redisOptions ?? {};
    this.#onRejected = options.onRejected;
  }

  async start(): Promise<void> {
    const { client, writer } = this.#connect();
    this.#client = client;
    this.#writer = writer;
  }

  /**
   * A new client with the renewed TLS material, connecting in the background; once it is ready (at most
   * `resilience.timeoutMs`) it takes the next writes, and the old one ends after what it has sent (QUIT is answered
   * after the replies before it: a write in flight finishes on it). A TLS handshake the server refuses keeps the
   * old client and throws, naming the error; a server that is unreachable does not (the new client goes on trying).
   */
  async renewTls(tls: ResolvedTls): Promise<void> {
    const old = this.#client;
    if (old === undefined) return;
    const previous = this.#config;
    this.#config = { ...previous, tls };
    const next = this.#connect();
    const refused = await readyOrRefused(next.client, this.#config.resilience.timeoutMs, tls.label);
    if (refused !== undefined) {
      next.client.disconnect();
      this.#config = previous;
      throw new Error(
        `${tls.label}: the renewed TLS material was not accepted (${refused}); the running connection goes on with the old one`,
      );
    }
    if (this.#client !== old) {
      // Stopped (or renewed again) meanwhile: this client is not needed.
      next.client.disconnect();
      return;
    }
    this.#client = next.client;
    this.#writer = next.writer;
    this.#logger.info(
      { target: next.target, ready: next.client.status === 'ready' },
      'redis: renewed TLS material in use for the next writes',
    );
    await closeClient(old);
  }

  /** The client of the configured mode with the sink's error and ready handlers, connecting in the background. */
  #connect(): { readonly client: Redis | Cluster; readonly writer: RedisWriter; readonly target: string } {
    const c = this.#config;
    const { client, writer, target } = createRedisConnection(c, {
      extra: this.#extra,
      // ioredis keeps reconnecting on its own; cap the interval so a returning server is found within 5 s.
      // Refused credentials will not fix themselves within seconds: try again at the breaker's pace.
      reconnectDelay: (times) => (isAuthReply(this.#connectionError) ? c.resilience.breakerHalfOpenAfterMs : Math.min(times * 250, 5000)),
    });
    // Sentinels over TLS: ioredis does not say why they are unreachable; a handshake of our own finds out.
    const sentinelTls = c.mode === 'sentinel' ? (client as Redis).options.sentinelTLS : undefined;
    const diagnosis =
      sentinelTls === undefined
        ? undefined
        : new SentinelTlsDiagnosis({ sentinels: c.sentinels, tls: sentinelTls, onFound: (cause) => onError(cause) });
    const onError = (reported: Error): void => {
      const error = diagnosis?.explain(reported) ?? reported;
      this.#connectionError = error;
      const auth = isAuthReply(error);
      const message = describeTlsError(error, c.tls.label) ?? error.message;
      const fields = { sink: this.name, err: message };
      if (auth)
        this.#collapsed.warn(
          `redis:${this.name}:auth`,
          fields,
          'redis refused the credentials: check username/password and the server ACL',
        );
      else this.#collapsed.warn(`redis:${this.name}:${message}`, fields, 'redis connection error');
    };
    client.on('error', onError);
    // A Cluster reports each node's connection errors separately.
    client.on('node error', (error: Error) => onError(error));
    client.on('ready', () => {
      this.#connectionError = undefined;
      diagnosis?.reset();
      this.#logger.info({ target }, 'redis connected'); // the logger is the sink's child: it carries "sink" already
    });
    // Connect in the background: the gateway starts even when Redis is down.
    client.connect().catch(() => {});
    return { client, writer, target };
  }

  async write(batch: Batch, signal: AbortSignal): Promise<WriteResult> {
    if (this.#writer === undefined) throw new Error('RedisSink used before start()');
    signal.throwIfAborted();
    return this.#writeIsolating(batch, signal);
  }

  /**
   * One device must not cost the others their points: when Redis refuses a batch for its content (a data error,
   * not retried), the batch is split in halves of its entries and each half written on its own, down to the one
   * entry Redis refuses, which alone is rejected (counted, handed to `onRejected`: the dead letter). One bad entry
   * among n costs about 2·log2(n) more calls; bounded as isolateBadPoints says.
   * An entry (one message) is not split into its lines: its lines share one stream position, and a line applied
   * alone would make the script skip its siblings as already applied. A retryable error in any half throws: the
   * worker sends the whole batch again, and what had landed is skipped (streams) or rewritten the same (latest).
   */
  async #writeIsolating(batch: Batch, signal: AbortSignal): Promise<WriteResult> {
    try {
      return await this.#writeOnce(batch);
    } catch (e) {
      const error = e as SinkError;
      if (error.retryable) throw error;
      return isolateBadPoints(batch, error, {
        send: (piece) => this.#writeOnce(piece),
        splitLines: false,
        signal,
        onRejected: this.#onRejected,
      });
    }
  }

  /** One script call for the batch; throws a classified SinkError. */
  async #writeOnce(batch: Batch): Promise<WriteResult> {
    const writer = this.#writer;
    if (writer === undefined) throw new SinkError('RedisSink stopped', { kind: 'unavailable', retryable: true });
    const built = this.#builder.build(batch);
    const reason = built.firstError;
    if (built.points === 0) return { accepted: 0, rejected: built.rejected, ...(reason ? { reason } : {}) };
    let duplicates = 0;
    try {
      duplicates = await writer.write(built);
    } catch (e) {
      throw classifyRedisError(e, this.#connectionError, this.#config.tls.label);
    }
    return { accepted: built.points, rejected: built.rejected, duplicates, ...(reason ? { reason } : {}) };
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#writer = undefined;
    if (client !== undefined) await closeClient(client);
  }
}

/**
 * QUIT waits for a connection: one that is not there (a server down, Sentinels refusing the credentials) would
 * keep the gateway's shutdown waiting forever. Closed at once then; otherwise QUIT, bounded.
 */
async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([client.quit(), new Promise((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)))]);
  } catch {
    // closed below either way
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Waits until `client` is ready or `timeoutMs` passed: undefined then, or the TLS error that refused it first. */
function readyOrRefused(client: Redis | Cluster, timeoutMs: number, label: string): Promise<string | undefined> {
  if (client.status === 'ready') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (refused: string | undefined): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('node error', onError);
      resolve(refused);
    };
    const onReady = (): void => done(undefined);
    const onError = (error: Error): void => {
      const tls = describeTlsError(error, label);
      if (tls !== undefined) done(tls);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('node error', onError);
  });
}
