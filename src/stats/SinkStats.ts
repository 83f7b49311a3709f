import type { SinkErrorKind } from '../sinks/SinkError.ts';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** One sink's counters and state, owned by its worker, read by health and metrics. */
export class SinkStats {
  readonly name: string;
  readonly type: string;
  pointsWritten = 0;
  pointsRejected = 0;
  /** Of pointsRejected, those refused in a piece the bisection's budget did not split down to single lines. */
  pointsRejectedUnisolated = 0;
  /** Points in batches whose attempt failed and was retried (each retry counts the batch again). */
  pointsRetried = 0;
  /** Points recognised as already written (re-sent after a crash) and skipped by the sink. */
  pointsDuplicate = 0;
  batchesWritten = 0;
  failedAttempts = 0;
  breaker: BreakerState = 'closed';
  lastError: { message: string; kind: SinkErrorKind | 'unknown'; at: number } | undefined;
  lastWriteAt: number | undefined;
  /** While the server's Retry-After (capped at retryMaxMs) holds the next attempt back: when it is due (epoch ms). */
  throttledUntil: number | undefined;
  /** Points still in memory when shutdown's deadline passed (memory spool only). */
  pointsUnflushedAtStop = 0;

  constructor(name: string, type: string) {
    this.name = name;
    this.type = type;
  }
}
