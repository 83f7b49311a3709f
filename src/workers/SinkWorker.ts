import { CircuitState, isBrokenCircuitError, isTaskCancelledError } from 'cockatiel';
import type { Logger } from 'pino';
import type { BatchConfig, ResilienceConfig } from '../config/Config.ts';
import type { Batch } from '../spool/Batch.ts';
import type { SpoolCursor } from '../spool/Spool.ts';
import type { Sink } from '../sinks/Sink.ts';
import { SinkError } from '../sinks/SinkError.ts';
import { createSinkPolicy, type SinkPolicy } from '../resilience/createSinkPolicy.ts';
import type { BreakerState, SinkStats } from '../stats/SinkStats.ts';

export interface SinkWorkerOptions {
  readonly sink: Sink;
  readonly cursor: SpoolCursor;
  readonly batch: BatchConfig;
  readonly resilience: ResilienceConfig;
  readonly stats: SinkStats;
  readonly logger: Logger;
  /** Called after each successful write: batch points and seconds (metrics histograms). */
  readonly onWrite?: (points: number, seconds: number) => void;
  readonly now?: () => number;
  /** Injected in tests (e.g. with a fake-clock backoff); built from `resilience` by default. */
  readonly policy?: SinkPolicy;
}

type WorkerState =
  | { readonly tag: 'idle' }
  | { readonly tag: 'running'; readonly loop: Promise<void> }
  | { readonly tag: 'draining'; readonly loop: Promise<void> }
  | { readonly tag: 'stopped' };

/**
 * While a backlog is waiting (after an outage), batches may grow to this multiple of the configured limits:
 * fewer, larger writes drain the backlog several times faster than live traffic arrives. Live batches keep
 * the configured size, so latency in normal operation is unchanged.
 */
const CATCH_UP_FACTOR = 4;

const BREAKER_STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Moves one sink's batches from its spool cursor to the sink, one batch in flight so order is kept.
 * A batch closes on count, bytes or age; each write goes through the sink's own retry → breaker → timeout
 * policy, so one sink's outage only ever delays that sink. Outcomes: accepted or rejected → commit (the cursor
 * moves on); retryable → the same batch again, until it lands or the worker is stopped.
 */
export class SinkWorker {
  readonly #options: SinkWorkerOptions;
  readonly #abort = new AbortController();
  readonly #now: () => number;
  readonly #policy: SinkPolicy;
  #state: WorkerState = { tag: 'idle' };
  #current: Batch | undefined;

  constructor(options: SinkWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#policy = options.policy ?? createSinkPolicy(options.resilience);
  }

  get name(): string {
    return this.#options.sink.name;
  }

  breakerState(): BreakerState {
    return BREAKER_STATES[this.#policy.breaker.state];
  }

  start(): void {
    if (this.#state.tag !== 'idle') return;
    const { stats, logger } = this.#options;
    this.#policy.breaker.onStateChange((state) => {
      const next = BREAKER_STATES[state];
      const level = next === 'open' ? 'warn' : 'info';
      logger[level]({ from: stats.breaker, to: next }, `circuit breaker ${next}`);
      stats.breaker = next;
    });
    this.#policy.retry.onRetry((event) => {
      stats.failedAttempts++;
      if (this.#current !== undefined) stats.pointsRetried += this.#current.points;
      // The breaker's own fail-fast rejection is no news: keep the server's last error for readiness.
      if ('error' in event && !isBrokenCircuitError(event.error)) {
        const error = event.error;
        // cockatiel's per-attempt timeout rejects with TaskCancelledError.
        const kind = error instanceof SinkError ? error.kind : isTaskCancelledError(error) ? 'timeout' : 'unknown';
        const message = error instanceof Error ? error.message : String(error);
        stats.lastError = { message, kind, at: this.#now() };
        // The delay is what the backoff chose, Retry-After included and capped: readiness shows when it ends.
        stats.throttledUntil = error instanceof SinkError && error.retryAfterMs > 0 ? this.#now() + event.delay : undefined;
      }
    });
    this.#state = { tag: 'running', loop: this.#run() };
  }

  /**
   * Stops taking new batches as they come and drains what is waiting until `deadline` (epoch ms); then aborts
   * the attempt in flight. What could not be written stays in the spool (and, for the memory spool, is counted).
   */
  async stop(deadline: number): Promise<void> {
    const state = this.#state;
    if (state.tag !== 'running') {
      this.#state = { tag: 'stopped' };
      return;
    }
    this.#state = { tag: 'draining', loop: state.loop };
    this.#options.cursor.flushNow();
    const wait = Math.max(0, deadline - this.#now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([state.loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]);
    clearTimeout(timer);
    this.#abort.abort();
    await state.loop;
    this.#options.stats.pointsUnflushedAtStop = this.#options.cursor.backlog().points;
    this.#state = { tag: 'stopped' };
  }

  async #run(): Promise<void> {
    const { cursor, batch: limits } = this.#options;
    const signal = this.#abort.signal;
    const readyLimits = { maxPoints: limits.maxPoints, maxBytes: limits.maxBytes, maxWaitMs: limits.flushIntervalMs };
    const catchUp = { maxPoints: limits.maxPoints * CATCH_UP_FACTOR, maxBytes: limits.maxBytes * CATCH_UP_FACTOR };
    while (!signal.aborted) {
      if (this.#state.tag !== 'draining') await cursor.ready(readyLimits, signal);
      if (signal.aborted) return;
      const backlogged = cursor.backlog().points > limits.maxPoints * 2;
      const batch = cursor.read(backlogged ? catchUp : limits);
      if (batch === undefined) {
        if (this.#state.tag === 'draining') return;
        continue;
      }
      await this.#deliver(batch, signal);
    }
  }

  async #deliver(batch: Batch, signal: AbortSignal): Promise<void> {
    const { sink, stats, logger, cursor, onWrite } = this.#options;
    this.#current = batch;
    try {
      const execution = this.#policy.policy.execute(async ({ signal: attemptSignal }) => {
        // cockatiel's retry sleeps through an abort and then makes one more attempt: refuse it here.
        attemptSignal.throwIfAborted();
        const started = performance.now();
        const r = await sink.write(batch, attemptSignal);
        onWrite?.(batch.points, (performance.now() - started) / 1000);
        return r;
      }, signal);
      const result = await untilAborted(execution, signal);
      stats.pointsWritten += result.accepted;
      stats.pointsDuplicate += result.duplicates ?? 0;
      stats.batchesWritten++;
      stats.lastWriteAt = this.#now();
      stats.throttledUntil = undefined;
      if (result.rejected > 0) {
        stats.pointsRejected += result.rejected;
        stats.pointsRejectedUnisolated += result.unisolated ?? 0;
        logger.warn({ rejected: result.rejected, unisolated: result.unisolated, reason: result.reason }, 'points rejected by sink');
      }
      cursor.commit(batch);
    } catch (error) {
      if (signal.aborted) return; // shutdown: the batch stays uncommitted
      // Only a non-retryable error gets here (the retry policy handles every retryable one): reject the batch.
      stats.pointsRejected += batch.points;
      const message = error instanceof Error ? error.message : String(error);
      stats.lastError = { message, kind: error instanceof SinkError ? error.kind : 'unknown', at: this.#now() };
      stats.throttledUntil = undefined;
      logger.warn({ rejected: batch.points, reason: message }, 'batch rejected by sink');
      cursor.commit(batch);
    } finally {
      this.#current = undefined;
    }
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (the promise's later failure is swallowed). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
