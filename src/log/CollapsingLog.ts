import type { Logger } from 'pino';

export interface CollapsingLogOptions {
  readonly logger: Logger;
  /** One line per key per interval; the repeats in between are counted, not printed. */
  readonly intervalMs: number;
  readonly now?: () => number;
}

interface Slot {
  windowStart: number;
  suppressed: number;
}

/**
 * Collapses repeated identical warnings: a broker that refuses every second, or a device that sends garbage
 * 100 times a second, gives one line per interval with a count instead of flooding the journal.
 * The key is what makes two messages "identical" (for instance `decode:bad_json:sensors/x`).
 */
export class CollapsingLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #slots = new Map<string, Slot>();

  constructor(options: CollapsingLogOptions) {
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs;
    this.#now = options.now ?? Date.now;
  }

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    this.#emit('warn', key, obj, msg);
  }

  error(key: string, obj: Record<string, unknown>, msg: string): void {
    this.#emit('error', key, obj, msg);
  }

  #emit(level: 'warn' | 'error', key: string, obj: Record<string, unknown>, msg: string): void {
    const now = this.#now();
    const slot = this.#slots.get(key);
    if (slot !== undefined && now - slot.windowStart < this.#intervalMs) {
      slot.suppressed++;
      return;
    }
    const repeated = slot?.suppressed ?? 0;
    if (slot === undefined) {
      // Bound the map: a flood of distinct keys (random topics) must not grow memory without end.
      if (this.#slots.size >= 1000) this.#slots.clear();
      this.#slots.set(key, { windowStart: now, suppressed: 0 });
    } else {
      slot.windowStart = now;
      slot.suppressed = 0;
    }
    this.#logger[level](repeated > 0 ? { ...obj, repeated } : obj, msg);
  }
}
