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
/** Nobody waits, or one reader waits with its limits, its promise and (once something is pending) its age timer. */
type TriggerState =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'waiting';
      readonly limits: ReadyLimits;
      readonly resolve: () => void;
      readonly signal: AbortSignal;
      timer: ReturnType<typeof setTimeout> | undefined;
    };

const IDLE: TriggerState = { kind: 'idle' };

export class BatchTrigger {
  readonly #view: PendingView;
  readonly #now: () => number;
  #state: TriggerState = IDLE;
  readonly #wake = (): void => this.wake();

  constructor(view: PendingView, now: () => number) {
    this.#view = view;
    this.#now = now;
  }

  wait(limits: ReadyLimits, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#isReady(limits)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#state = { kind: 'waiting', limits, resolve, signal, timer: undefined };
      signal.addEventListener('abort', this.#wake, { once: true });
      this.#armTimer();
    });
  }

  /** Called after each append to this cursor: cheap unless someone waits. */
  onAppend(): void {
    const state = this.#state;
    if (state.kind === 'idle') return;
    const { limits } = state;
    if (this.#view.pendingPoints() >= limits.maxPoints || this.#view.pendingBytes() >= limits.maxBytes) this.wake();
    else if (state.timer === undefined) this.#armTimer();
  }

  wake(): void {
    const state = this.#state;
    if (state.kind === 'idle') return;
    this.#state = IDLE;
    clearTimeout(state.timer);
    state.signal.removeEventListener('abort', this.#wake);
    state.resolve();
  }

  #isReady(limits: ReadyLimits): boolean {
    const v = this.#view;
    if (v.pendingPoints() === 0) return false;
    if (v.pendingPoints() >= limits.maxPoints || v.pendingBytes() >= limits.maxBytes) return true;
    const oldest = v.oldestAt();
    return oldest !== undefined && this.#now() - oldest >= limits.maxWaitMs;
  }

  #armTimer(): void {
    const state = this.#state;
    if (state.kind === 'idle' || state.timer !== undefined) return;
    const oldest = this.#view.oldestAt();
    if (oldest === undefined) return;
    state.timer = setTimeout(this.#wake, Math.max(0, oldest + state.limits.maxWaitMs - this.#now()));
  }
}
