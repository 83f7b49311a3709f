import type { ReadLimits } from './Spool.ts';

export type ReadyLimits = ReadLimits & { readonly maxWaitMs: number };

/** What a cursor tells its trigger: how much is waiting, and since when. */
export interface PendingView {
  pendingPoints(): number;
  pendingBytes(): number;
  /** receivedAt of the oldest waiting entry; undefined when nothing is waiting. */
  oldestAt(): number | undefined;
}

/**
 * The "is a batch worth reading yet?" wait shared by the cursors: resolves on count, bytes, or the age of the
 * oldest waiting entry, or when aborted or woken. One waiter at a time (one batch in flight per sink).
 */
export class BatchTrigger {
  readonly #view: PendingView;
  readonly #now: () => number;
  #limits: ReadyLimits | undefined;
  #resolve: (() => void) | undefined;
  #signal: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #wake = (): void => this.wake();

  constructor(view: PendingView, now: () => number) {
    this.#view = view;
    this.#now = now;
  }

  wait(limits: ReadyLimits, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#isReady(limits)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#limits = limits;
      this.#resolve = resolve;
      this.#signal = signal;
      signal.addEventListener('abort', this.#wake, { once: true });
      this.#armTimer();
    });
  }

  /** Called after each append to this cursor: cheap unless someone waits. */
  onAppend(): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    if (this.#view.pendingPoints() >= limits.maxPoints || this.#view.pendingBytes() >= limits.maxBytes) this.wake();
    else if (this.#timer === undefined) this.#armTimer();
  }

  wake(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#wake);
    this.#limits = undefined;
    this.#resolve = undefined;
    this.#signal = undefined;
    this.#timer = undefined;
    resolve();
  }

  #isReady(limits: ReadyLimits): boolean {
    const v = this.#view;
    if (v.pendingPoints() === 0) return false;
    if (v.pendingPoints() >= limits.maxPoints || v.pendingBytes() >= limits.maxBytes) return true;
    const oldest = v.oldestAt();
    return oldest !== undefined && this.#now() - oldest >= limits.maxWaitMs;
  }

  #armTimer(): void {
    const limits = this.#limits;
    if (limits === undefined || this.#timer !== undefined) return;
    const oldest = this.#view.oldestAt();
    if (oldest === undefined) return;
    this.#timer = setTimeout(this.#wake, Math.max(0, oldest + limits.maxWaitMs - this.#now()));
  }
}
