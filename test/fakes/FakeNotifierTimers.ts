import type { NotifierTimers } from '../../src/health/SystemdNotifier.ts';

interface Interval {
  readonly fn: () => void;
  readonly ms: number;
  due: number;
}

/**
 * SystemdNotifier's timers on a clock the test moves: no wall clock, so a loaded machine cannot delay a tick or
 * stall the loop behind the test's back. `advance` lets time pass with the loop free, `block` with it stalled.
 */
export class FakeNotifierTimers implements NotifierTimers {
  #now = 0;
  #nextId = 1;
  readonly #intervals = new Map<number, Interval>();
  /** What the loop-lag probe reports (ms) until the notifier resets it. */
  lagMs = 0;

  now(): number {
    return this.#now;
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#intervals.set(id, { fn, ms, due: this.#now + ms });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.#intervals.delete(handle as number);
  }

  lagMonitor(): { maxMs(): number; reset(): void; disable(): void } {
    return { maxMs: () => this.lagMs, reset: () => (this.lagMs = 0), disable: () => {} };
  }

  /** Intervals still set. */
  get active(): number {
    return this.#intervals.size;
  }

  /** The loop is blocked for `ms`: time passes and no timer runs (the next `advance` runs the overdue ones late). */
  block(ms: number): void {
    this.#now += ms;
  }

  /**
   * `ms` pass with the loop free: each interval runs when due (an overdue one at once) and is rescheduled from then,
   * as Node does; pending promise callbacks run before each tick and at the end.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    while (true) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      let next: Interval | undefined;
      for (const t of this.#intervals.values()) if (t.due <= end && (next === undefined || t.due < next.due)) next = t;
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.due);
      next.due = this.#now + next.ms;
      next.fn();
    }
    this.#now = end;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
