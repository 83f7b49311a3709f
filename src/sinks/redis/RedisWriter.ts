import type { BuiltBatch } from './RedisBatchBuilder.ts';

/** How a built batch reaches Redis: one call on one server, or one call per hash slot on a cluster. */
export interface RedisWriter {
  /**
   * Runs the batch script; with `waitReplicas` > 0, also waits for the replicas to confirm it. Resolves with the
   * stream entries skipped as duplicates. Throws (ioredis errors, or a retryable SinkError) when the batch must
   * be kept; the sink classifies.
   */
  write(built: BuiltBatch): Promise<number>;
}

export interface ReplicaWait {
  /** 0 = off. */
  readonly replicas: number;
  readonly timeoutMs: number;
}
