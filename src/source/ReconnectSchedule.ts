export interface ReconnectScheduleOptions {
  /** Base of the first delay (ms); the first attempt comes after a jittered half to all of it. */
  readonly minMs: number;
  /** Longest delay (ms), reached only after an outage of about 60 × maxMs. */
  readonly maxMs: number;
  /** Clock (ms); default Date.now. */
  readonly now?: () => number;
  /** Uniform in [0, 1); default Math.random. */
  readonly random?: () => number;
}

/**
 * While an outage is young the delay stays at most this (ms). The target is connected and subscribed 1.5 s after
 * the broker listens again; the attempt, CONNACK and SUBACK take a few ms on loopback, but up to ~300 ms were
 * measured on a loaded 2-core machine (the broker restoring its sessions), hence 750 and not 1 000.
 */
export const FAST_CEILING_MS = 750;
/**
 * Past 45 s the ceiling grows with the outage: at most 1/60 of the time the broker has been gone (1 s after a minute,
 * 10 s after 10 minutes), so the time lost after its return is at most ~1.7 % of the outage, and a dead broker costs
 * one refused connection per few seconds, not a storm.
 */
export const OUTAGE_FRACTION = 60;
/**
 * A connection that stayed up this long (ms) was a success and starts the schedule over. One that the broker
 * closed sooner (a takeover by another client with the same id, a broker that accepts and drops) is a failed
 * attempt: without this two gateways sharing an id kicked each other off every 150–300 ms forever.
 */
export const STABLE_MS = 1000;

/**
 * Delays between reconnect attempts. The base doubles from `minMs` with every failed attempt, but never rises
 * above a ceiling of max(FAST_CEILING_MS, outage / OUTAGE_FRACTION) (and `maxMs`), where the outage counts from the
 * first delay after the last connection that was up for STABLE_MS. Each delay is jittered to half to all of its
 * base ("equal jitter"), so a fleet that lost the broker together does not come back in lockstep.
 *
 * Before, it was cockatiel's exponential backoff from 1 s to 30 s over attempts alone: a broker that flapped (six
 * restarts 2–3 s apart, issue 16) grew it to 11–23 s, and the gateway stayed away 10.5 s after the broker was
 * back for good; a broker without persistence dropped everything published meanwhile.
 */
export class ReconnectSchedule {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Failed attempts since the last reset. */
  #attempts = 0;
  /** When the outage began (the first next() after a reset); undefined while connected. */
  #since: number | undefined;
  /** When the current connection was made (connected()); undefined while there is none. */
  #connectedAt: number | undefined;

  constructor(options: ReconnectScheduleOptions) {
    if (!(options.minMs > 0) || !(options.maxMs >= options.minMs)) {
      throw new RangeError(`ReconnectSchedule: need 0 < minMs <= maxMs, got ${options.minMs} and ${options.maxMs}`);
    }
    this.#minMs = options.minMs;
    this.#maxMs = options.maxMs;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt, ms. */
  next(): number {
    const now = this.#now();
    if (this.#connectedAt !== undefined && now - this.#connectedAt >= STABLE_MS) this.reset();
    this.#connectedAt = undefined;
    this.#since ??= now;
    const base = Math.min(this.ceiling(now), this.#minMs * 2 ** Math.min(this.#attempts, 30));
    this.#attempts++;
    return Math.max(1, Math.round(base * (0.5 + 0.5 * this.#random())));
  }

  /** The largest delay next() may return at `now` (ms): grows with the outage, never before a minute of it. */
  ceiling(now: number = this.#now()): number {
    const outage = this.#since === undefined ? 0 : now - this.#since;
    return Math.min(this.#maxMs, Math.max(this.#minMs, FAST_CEILING_MS, outage / OUTAGE_FRACTION));
  }

  /** Connected: if the connection stays up STABLE_MS, the next outage starts again from the minimum. */
  connected(): void {
    this.#connectedAt = this.#now();
  }

  /** Starts over now: the next delay is the first of a new outage. */
  reset(): void {
    this.#attempts = 0;
    this.#since = undefined;
    this.#connectedAt = undefined;
  }
}
