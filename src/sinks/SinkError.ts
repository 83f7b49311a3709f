/** Why a write failed, as the breaker, readiness and metrics need to know it. */
export type SinkErrorKind = 'unavailable' | 'timeout' | 'throttled' | 'auth' | 'data' | 'too_large';

/** A failed write, classified by the sink that saw it. */
export class SinkError extends Error {
  readonly kind: SinkErrorKind;
  readonly retryable: boolean;
  /** Server-requested delay before the next attempt (HTTP Retry-After), ms; 0 when none. */
  readonly retryAfterMs: number;
  readonly status: number | undefined;

  constructor(
    message: string,
    options: { kind: SinkErrorKind; retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'SinkError';
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs ?? 0;
    this.status = options.status;
  }
}

/** Anything but an explicit non-retryable SinkError is retried: an unknown failure must never lose data. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof SinkError) || error.retryable;
}
