import { ExponentialBackoff, type IBackoff, type IBackoffFactory, type IRetryBackoffContext } from 'cockatiel';
import { SinkError } from '../sinks/SinkError.ts';

/** Node's timers hold a signed 32-bit delay: anything longer fires after 1 ms (with a TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Cockatiel's exponential backoff with jitter, except that a server's Retry-After is honoured up to `maxMs`: the
 * delay is the larger of the two. `initialMs` → `maxMs`, decorrelated jitter (cockatiel's default generator).
 * The cap matters: one `429 Retry-After: 2000000` would otherwise park the sink for 23 days, and past 24.8 days the
 * timer overflows and the retry comes at once.
 */
export class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  readonly #inner: IBackoffFactory<unknown>;
  readonly #maxMs: number;

  constructor(options: { initialMs: number; maxMs: number; inner?: IBackoffFactory<unknown> }) {
    this.#maxMs = Math.min(options.maxMs, MAX_TIMER_MS);
    this.#inner = options.inner ?? new ExponentialBackoff({ initialDelay: options.initialMs, maxDelay: this.#maxMs });
  }

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return wrap(this.#inner.next(context), context, this.#maxMs);
  }
}

function wrap(inner: IBackoff<unknown>, context: IRetryBackoffContext<unknown>, maxMs: number): IBackoff<IRetryBackoffContext<unknown>> {
  const error = 'error' in context.result ? context.result.error : undefined;
  const asked = error instanceof SinkError ? error.retryAfterMs : 0;
  return {
    duration: Math.min(Math.max(inner.duration, Math.min(asked, maxMs)), MAX_TIMER_MS),
    next: (ctx) => wrap(inner.next(ctx), ctx, maxMs),
  };
}
