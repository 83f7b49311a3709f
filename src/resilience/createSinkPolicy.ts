import {
  ConsecutiveBreaker,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
  type RetryPolicy,
} from 'cockatiel';
import type { ResilienceConfig } from '../config/Config.ts';
import { isRetryable } from '../sinks/SinkError.ts';
import { RetryAfterBackoff } from './RetryAfterBackoff.ts';

export interface SinkPolicy {
  /** retry(∞) → breaker → timeout: execute until the batch is written, rejected, or the signal aborts. */
  readonly policy: IPolicy;
  readonly breaker: CircuitBreakerPolicy;
  readonly retry: RetryPolicy;
}

/**
 * One sink's cockatiel policy. The retry is outermost and unbounded: a batch the sink says is retryable is never
 * dropped, only delayed (exponential backoff with jitter, Retry-After honoured). The breaker counts consecutive
 * retryable failures; while it is open, attempts fail fast without touching the server and the retry waits.
 * The timeout is per attempt and aborts the request through the signal.
 */
export function createSinkPolicy(config: ResilienceConfig): SinkPolicy {
  const failures = handleWhen(isRetryable);
  const breaker = circuitBreaker(failures, {
    breaker: new ConsecutiveBreaker(config.breakerThreshold),
    halfOpenAfter: config.breakerHalfOpenAfterMs,
  });
  const retryPolicy = retry(
    handleWhen((e) => isBrokenCircuitError(e) || isRetryable(e)),
    {
      maxAttempts: Number.POSITIVE_INFINITY,
      backoff: new RetryAfterBackoff({ initialMs: config.retryInitialMs, maxMs: config.retryMaxMs }),
    },
  );
  const perAttempt = timeout(config.timeoutMs, TimeoutStrategy.Aggressive);
  return { policy: wrap(retryPolicy, breaker, perAttempt), breaker, retry: retryPolicy };
}
