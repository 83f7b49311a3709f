import { ExponentialBackoff, type IBackoff, type IBackoffFactory, type IRetryBackoffContext } from 'cockatiel';
import { SinkError } from '../sinks/SinkError.ts';

/**
 * Cockatiel's exponential backoff with jitter, except that a server's Retry-After is honoured: the delay is the
 * larger of the two. `initialMs` → `maxMs`, decorrelated jitter (cockatiel's default generator).
 */
export class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  readonly #inner: IBackoffFactory<unknown>;

  constructor(options: { initialMs: number; maxMs: number; inner?: IBackoffFactory<unknown> }) {
    this.#inner = options.inner ?? new ExponentialBackoff({ initialDelay: options.initialMs, maxDelay: options.maxMs });
  }

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return wrap(this.#inner.next(context), context);
  }
}

function wrap(inner: IBackoff<unknown>, context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
  const error = 'error' in context.result ? context.result.error : undefined;
  const asked = error instanceof SinkError ? error.retryAfterMs : 0;
  return {
    duration: Math.max(inner.duration, asked),
    next: (ctx) => wrap(inner.next(ctx), ctx),
  };
}
