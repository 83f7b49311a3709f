import type { Redis } from 'ioredis';
import type { BuiltBatch } from './RedisBatchBuilder.ts';
import { confirmReplicas } from './confirmReplicas.ts';
import type { RedisWriter, ReplicaWait } from './RedisWriter.ts';

export type ScriptClient = Redis & { edgebridgeBatch(argv: readonly (string | Buffer)[]): Promise<[number, number, number]> };

/**
 * Standalone and Sentinel: one script call per batch on the master's single connection, then, when asked,
 * `WAIT` on that same connection (WAIT counts replicas that reached this connection's last write).
 */
export class SingleNodeWriter implements RedisWriter {
  readonly #client: ScriptClient;
  readonly #wait: ReplicaWait;

  constructor(client: ScriptClient, wait: ReplicaWait) {
    this.#client = client;
    this.#wait = wait;
  }

  async write(built: BuiltBatch): Promise<number> {
    const [, , skipped] = await this.#client.edgebridgeBatch(built.argv);
    await confirmReplicas(this.#wait, (n, ms) => this.#client.wait(n, ms));
    return skipped;
  }
}
