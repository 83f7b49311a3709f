import type { Batch } from '../spool/Batch.ts';
import type { ResolvedTls } from '../tls/resolveTls.ts';

/**
 * A destination for batches. A write is a transaction with three outcomes (as Telegraf's outputs):
 * - resolves `{ accepted, rejected }`: the batch is done; rejected points are counted and never retried;
 * - throws a `SinkError` with `retryable: true` (or any other error): the batch is kept and retried;
 * - throws a `SinkError` with `retryable: false`: the whole batch is rejected.
 * Each sink decides what is retryable; retries, backoff and the breaker live in the worker, not here.
 */
export interface Sink {
  readonly name: string;
  readonly type: string;
  /** Connects; must not fail or block when the server is down (the worker's retries find it later). */
  start(): Promise<void>;
  write(batch: Batch, signal: AbortSignal): Promise<WriteResult>;
  stop(): Promise<void>;
  /**
   * A reload: the TLS files were renewed under the same paths (`tls`: the block as loaded again). The sink's next
   * writes use a new client or agent with it; a write in flight finishes on the old one. Throws when the new material
   * cannot be used (the running client goes on). Absent: the sink cannot renew (a reload that needs it fails).
   */
  renewTls?(tls: ResolvedTls): Promise<void>;
}

export interface WriteResult {
  readonly accepted: number;
  readonly rejected: number;
  /** Points the sink recognised as already written (a batch sent again after a crash) and skipped. */
  readonly duplicates?: number;
  /**
   * Of `rejected`, points refused in a piece that was not split down to single lines (the bisection's request budget
   * was spent, see isolateBadPoints): good points may be among them.
   */
  readonly unisolated?: number;
  /** Why points were rejected (for the log and the metric label). */
  readonly reason?: string;
}
