import { CircuitState, isBrokenCircuitError, isTaskCancelledError } from 'cockatiel';
import type { Logger } from 'pino';
import type { BatchConfig, ResilienceConfig } from '../config/Config.ts';
import type { Batch } from '../spool/Batch.ts';
import type { SpoolCursor } from '../spool/Spool.ts';
import type { Sink, WriteResult } from '../sinks/Sink.ts';
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
  #policy: SinkPolicy;
  /** The policy's listeners (breaker state, retries), disposed when a reload replaces the policy. */
  #listeners: { dispose(): void }[] = [];
  /** Aborted when a reload replaced the policy: the batch in flight goes on under the new one (see reconfigure). */
  #policySwap = new AbortController();
  /** A write attempt is running: a policy swap waits for it to end, so no request is cut off (and sent twice). */
  #attempting = false;
  /** A swap that waits for the running attempt to end. */
  #staleSwap: AbortController | undefined;
  #batch: BatchConfig;
  #resilience: ResilienceConfig;
  #state: WorkerState = { tag: 'idle' };
  #current: Batch | undefined;

  constructor(options: SinkWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#policy = options.policy ?? createSinkPolicy(options.resilience);
    this.#batch = options.batch;
    this.#resilience = options.resilience;
  }

  get name(): string {
    return this.#options.sink.name;
  }

  breakerState(): BreakerState {
    return BREAKER_STATES[this.#policy.breaker.state];
  }

  start(): void {
    if (this.#state.tag !== 'idle') return;
    this.#listen(this.#policy);
    this.#state = { tag: 'running', loop: this.#run() };
  }

  /**
   * Reload: new batch limits take effect from the next batch read; new resilience settings replace the policy.
   * The batch in flight is kept: it goes on under the new policy (a fresh breaker, closed) as soon as no write
   * attempt is running — a retry waiting in its backoff is woken, an attempt in progress is never cut off, so a
   * request the server may already have taken is not sent twice.
   */
  reconfigure(batch: BatchConfig, resilience: ResilienceConfig): void {
    this.#batch = batch;
    // A reader waiting with the old limits wakes and waits again with the new ones.
    this.#options.cursor.flushNow();
    if (JSON.stringify(resilience) === JSON.stringify(this.#resilience)) return;
    this.#resilience = resilience;
    for (const l of this.#listeners) l.dispose();
    this.#policy = createSinkPolicy(resilience);
    const previous = this.#options.stats.breaker;
    this.#options.stats.breaker = 'closed';
    if (previous !== 'closed')
      this.#options.logger.info({ from: previous, to: 'closed' }, 'circuit breaker closed (resilience settings reloaded)');
    if (this.#state.tag === 'running' || this.#state.tag === 'draining') this.#listen(this.#policy);
    const swap = this.#policySwap;
    this.#policySwap = new AbortController();
    if (!this.#attempting) swap.abort();
    // Two reloads during one attempt: the first one's controller is the one the running execution listens to.
    else this.#staleSwap ??= swap;
  }

  #listen(policy: SinkPolicy): void {
    const { stats, logger } = this.#options;
    this.#listeners = [];
    this.#listeners.push(
      policy.breaker.onStateChange((state) => {
        const next = BREAKER_STATES[state];
        const level = next === 'open' ? 'warn' : 'info';
        logger[level]({ from: stats.breaker, to: next }, `circuit breaker ${next}`);
        stats.breaker = next;
      }),
    );
    this.#listeners.push(
      policy.retry.onRetry((event) => {
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
      }),
    );
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
    const { cursor } = this.#options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      // Read each time: a reload may have changed them (and wakes the wait, so the read takes the new ones).
      const waitFor = this.#batch;
      const readyLimits = { maxPoints: waitFor.maxPoints, maxBytes: waitFor.maxBytes, maxWaitMs: waitFor.flushIntervalMs };
      if (this.#state.tag !== 'draining') await cursor.ready(readyLimits, signal);
      if (signal.aborted) return;
      const limits = this.#batch;
      const catchUp = { maxPoints: limits.maxPoints * CATCH_UP_FACTOR, maxBytes: limits.maxBytes * CATCH_UP_FACTOR };
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
    const { stats, logger, cursor } = this.#options;
    this.#current = batch;
    try {
      const result = await this.#execute(batch, signal);
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

  /** The batch through the current policy; again through the next one when a reload swaps it meanwhile. */
  async #execute(batch: Batch, signal: AbortSignal): Promise<WriteResult> {
    const { sink, onWrite } = this.#options;
    for (;;) {
      const swap = this.#policySwap.signal;
      const both = AbortSignal.any([signal, swap]);
      const execution = this.#policy.policy.execute(async ({ signal: attemptSignal }) => {
        // cockatiel's retry sleeps through an abort and then makes one more attempt: refuse it here.
        attemptSignal.throwIfAborted();
        const started = performance.now();
        this.#attempting = true;
        let r: WriteResult;
        try {
          r = await sink.write(batch, attemptSignal);
        } catch (error) {
          // Failed: the next attempt is the new policy's, if a reload waits for this one to end.
          this.#attempting = false;
          this.#staleSwap?.abort();
          this.#staleSwap = undefined;
          throw error;
        }
        // Written: the new policy starts with the next batch (aborting now would send this one again).
        this.#attempting = false;
        this.#staleSwap = undefined;
        onWrite?.(batch.points, (performance.now() - started) / 1000);
        return r;
      }, both);
      try {
        return await untilAborted(execution, both);
      } catch (error) {
        if (swap.aborted && !signal.aborted) continue; // a reload replaced the policy: same batch, new policy
        throw error;
      }
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
