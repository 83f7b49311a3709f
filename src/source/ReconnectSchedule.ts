import { ExponentialBackoff, type IBackoff } from 'cockatiel';

/**
 * Delays between reconnect attempts: exponential with decorrelated jitter from `minMs` to `maxMs` (mqtt.js alone
 * only knows a fixed period, which makes a fleet of gateways hammer a broker that just came back in lockstep).
 */
export class ReconnectSchedule {
  readonly #factory: ExponentialBackoff<unknown>;
  #current: IBackoff<unknown> | undefined;

  constructor(options: { minMs: number; maxMs: number }) {
    this.#factory = new ExponentialBackoff({ initialDelay: options.minMs, maxDelay: options.maxMs });
  }

  /** The delay before the next attempt, ms. */
  next(): number {
    this.#current = this.#current === undefined ? this.#factory.next() : this.#current.next(undefined);
    return this.#current.duration;
  }

  /** Connected: the next outage starts again from the minimum. */
  reset(): void {
    this.#current = undefined;
  }
}
