/**
 * Whether the disk spool refuses appends, and why: `maxBytes` (full under the block policy, until segments are
 * deleted) or a write error code such as ENOSPC (for `retryMs`, then the next append tries the disk again). The
 * source, refused, stops acknowledging and waits in `whenLifted`.
 */
export class Refusal {
  #reason: string | undefined;
  #waiters: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Why appends are refused; undefined when they are not. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Refuses until `lift()`. */
  refuse(reason: string): void {
    this.#reason = reason;
  }

  /** Refuses for `ms`, then lifts by itself. */
  refuseFor(reason: string, ms: number): void {
    this.#reason = reason;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.lift(), ms);
  }

  /** Takes appends again, and wakes whoever waits for that. */
  lift(): void {
    if (this.#reason === undefined) return;
    this.#reason = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once appends are taken again (at once when they are now). */
  whenLifted(): Promise<void> {
    if (this.#reason === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Closing: no timer left behind. */
  stop(): void {
    clearTimeout(this.#timer);
  }
}
