import type { SpoolRefusal } from '../Spool.ts';

/**
 * Whether the disk spool refuses appends, and why: `maxBytes` (full under the block policy, until segments are
 * deleted) or a failed write (ENOSPC, EIO…: for `retryMs`, then the next append tries the disk again). The
 * source, refused, stops acknowledging and waits in `whenLifted`.
 */
export type RefusalState =
  | { readonly kind: 'accepting' }
  | { readonly kind: 'maxBytes' }
  | { readonly kind: 'writeFailed'; readonly code: string; readonly timer: ReturnType<typeof setTimeout> };

const ACCEPTING: RefusalState = { kind: 'accepting' };
const MAX_BYTES: SpoolRefusal = { kind: 'maxBytes' };

export class Refusal {
  #state: RefusalState = ACCEPTING;
  #waiters: (() => void)[] = [];

  get state(): RefusalState {
    return this.#state;
  }

  /** Why appends are refused; undefined when they are not. */
  get refusal(): SpoolRefusal | undefined {
    const s = this.#state;
    return s.kind === 'accepting' ? undefined : s.kind === 'maxBytes' ? MAX_BYTES : { kind: 'writeFailed', code: s.code };
  }

  /** Refuses until `lift()`: the spool is at maxBytes under the block policy. */
  refuseFull(): void {
    this.#clearTimer();
    this.#state = { kind: 'maxBytes' };
  }

  /** A write failed with `code`: refuses for `ms`, then lifts by itself. */
  refuseFor(code: string, ms: number): void {
    this.#clearTimer();
    this.#state = { kind: 'writeFailed', code, timer: setTimeout(() => this.lift(), ms) };
  }

  /** Takes appends again, and wakes whoever waits for that. */
  lift(): void {
    if (this.#state.kind === 'accepting') return;
    this.#clearTimer();
    this.#state = ACCEPTING;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once appends are taken again (at once when they are now). */
  whenLifted(): Promise<void> {
    if (this.#state.kind === 'accepting') return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Closing: no timer left behind. */
  stop(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#state.kind === 'writeFailed') clearTimeout(this.#state.timer);
  }
}
