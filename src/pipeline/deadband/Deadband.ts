import type { DeadbandRule } from '../../route/Route.ts';

/**
 * What the deadband remembers of one series' field: the last value written (its text as in the line, and the
 * number when it is one), when, and the last value held back since then (for `writePrevious`). Mutated in place
 * by `Deadband.apply`: one object per series × field lives in the LRU.
 */
export interface FieldMemory {
  /** The last written value's text (strings quoted, as in the line). */
  text: string;
  /** Its number; NaN for strings and booleans, which are compared by text (exact repeats only). */
  number: number;
  /** Point time of the last written value, µs. */
  writtenAt: number;
  /** The last value held back since, with its point time (µs); undefined when none. */
  heldText: string | undefined;
  heldAt: number;
}

/** One value's fate: a tagged union, so the router switches on `kind`. */
export type Decision =
  | { readonly kind: 'write'; readonly reason: 'first' | 'changed' | 'heartbeat' | 'out_of_order' }
  | { readonly kind: 'suppress'; readonly reason: 'deadband' | 'min_interval' }
  /** Write, after the last held-back value `text` at its own time `at` (µs): the step keeps its shape. */
  | { readonly kind: 'write-with-previous'; readonly text: string; readonly at: number };

// Shared immutable decisions: the common outcomes allocate nothing.
const FIRST: Decision = Object.freeze({ kind: 'write', reason: 'first' });
const CHANGED: Decision = Object.freeze({ kind: 'write', reason: 'changed' });
const HEARTBEAT: Decision = Object.freeze({ kind: 'write', reason: 'heartbeat' });
const OUT_OF_ORDER: Decision = Object.freeze({ kind: 'write', reason: 'out_of_order' });
const IN_BAND: Decision = Object.freeze({ kind: 'suppress', reason: 'deadband' });
const TOO_SOON: Decision = Object.freeze({ kind: 'suppress', reason: 'min_interval' });

/**
 * The number in a field value's text, NaN when it is not one: `21.5`, `12i`, `12u` are numbers; `"…"` (string) and
 * t/T/true/f/F/false… (boolean) are not. int64 beyond 2^53 loses digits here, which is fine for a comparison.
 */
export function numberOf(text: string): number {
  const c = text.charCodeAt(0);
  if (c === 34 /* " */ || c === 116 /* t */ || c === 84 /* T */ || c === 102 /* f */ || c === 70 /* F */) return Number.NaN;
  const last = text.charCodeAt(text.length - 1);
  return Number(last === 105 /* i */ || last === 117 /* u */ ? text.slice(0, -1) : text);
}

/**
 * One rule's decision for one series' field: pure (`decide` reads, `apply` updates the memory), time from the
 * points themselves (µs), so the same input gives the same output in the gateway, the dry run and the bench.
 * Order: first value → write; older than the last written → write (not remembered); heartbeat due → write;
 * within the band (numbers) or an exact repeat (strings, booleans) → suppress; changed but within
 * `minIntervalMs` → suppress; otherwise write, after the last held-back value when `writePrevious`.
 */
export class Deadband {
  readonly rule: DeadbandRule;
  readonly #absolute: number;
  readonly #percent: number;
  readonly #minUs: number;
  readonly #maxUs: number;

  constructor(rule: DeadbandRule) {
    this.rule = rule;
    this.#absolute = rule.absolute;
    this.#percent = rule.percent / 100;
    this.#minUs = rule.minIntervalMs * 1000;
    this.#maxUs = rule.maxIntervalMs * 1000;
  }

  /** Whether `number`/`text` is outside the band around the last written value. */
  exceeds(memory: FieldMemory, text: string, number: number): boolean {
    const last = memory.number;
    // A string or boolean, or a change of type: exact repeats only.
    if (Number.isNaN(last) || Number.isNaN(number)) return text !== memory.text;
    const change = Math.abs(number - last);
    if (this.#percent > 0) return change > this.#percent * Math.abs(last);
    return change > this.#absolute;
  }

  decide(memory: FieldMemory | undefined, text: string, number: number, at: number): Decision {
    if (memory === undefined) return FIRST;
    const elapsed = at - memory.writtenAt;
    if (elapsed < 0) return OUT_OF_ORDER;
    if (this.#maxUs > 0 && elapsed >= this.#maxUs) return HEARTBEAT;
    if (!this.exceeds(memory, text, number)) return IN_BAND;
    if (elapsed < this.#minUs) return TOO_SOON;
    if (this.rule.writePrevious && memory.heldText !== undefined)
      return { kind: 'write-with-previous', text: memory.heldText, at: memory.heldAt };
    return CHANGED;
  }

  /** The memory after `decision`: a new one for a first value, else `memory` updated in place. */
  apply(memory: FieldMemory | undefined, decision: Decision, text: string, number: number, at: number): FieldMemory {
    if (memory === undefined) return { text, number, writtenAt: at, heldText: undefined, heldAt: 0 };
    switch (decision.kind) {
      case 'suppress':
        memory.heldText = text;
        memory.heldAt = at;
        return memory;
      case 'write':
        // An out-of-order point is written but not remembered: the newer history stays the reference.
        if (decision.reason === 'out_of_order') return memory;
        break;
      case 'write-with-previous':
        break;
    }
    memory.text = text;
    memory.number = number;
    memory.writtenAt = at;
    memory.heldText = undefined;
    return memory;
  }
}
