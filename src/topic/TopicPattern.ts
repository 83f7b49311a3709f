import { CAPTURE_NAME_EXPECTED, isCaptureName } from './captureName.ts';
import { parseSharedFilter, SHARED_FILTER_EXPECTED } from './SharedFilter.ts';

/**
 * A route's topic pattern, compiled once. Levels: literal, `+`, `{name}` (one level, captured),
 * and as the last level `#` or `{name#}` (zero or more levels, captured joined with '/').
 * A leading `$share/<group>/` is stripped: the route matches the topics the shared subscription delivers.
 */

/** Captured level values in the order of `TopicPattern.names`. */
export type Captures = readonly string[];

// Level kinds as small ints: a switch on numbers is cheaper than on strings.
const LITERAL = 0;
const PLUS = 1;
const CAPTURE = 2;
const HASH = 3;
const CAPTURE_REST = 4;

// Shared result for patterns without captures: a match then allocates nothing.
const NO_CAPTURES: Captures = Object.freeze([]);

export class TopicPattern {
  /** The pattern as configured. */
  readonly source: string;
  /** The pattern as an MQTT subscription filter (`{x}` → `+`, `{x#}` → `#`), `$share/…/` removed. */
  readonly mqttFilter: string;
  /** Capture names in order; `{rest#}` contributes `rest`. */
  readonly names: readonly string[];

  readonly #kinds: Uint8Array;
  readonly #literals: readonly string[];
  // Start/end offsets of each capture during a match; built into strings only when the whole topic matches.
  readonly #spans: Int32Array;
  // MQTT: a topic starting with '$' never matches a filter whose first level is a wildcard.
  readonly #wildFirst: boolean;

  constructor(source: string) {
    this.source = source;
    let pattern: string;
    try {
      pattern = parseSharedFilter(source).filter;
    } catch (error) {
      throw new RangeError(`topic pattern "${source}": ${(error as Error).message}; expected ${SHARED_FILTER_EXPECTED}`);
    }
    if (pattern === '') throw new RangeError(`topic pattern "${source}" is empty`);
    if (pattern.includes('\u0000')) throw new RangeError(`topic pattern "${source}" holds U+0000, which MQTT forbids in a topic`);
    const levels = pattern.split('/');
    const kinds = new Uint8Array(levels.length);
    const literals: string[] = [];
    const names: string[] = [];
    const filter: string[] = [];
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      const last = i === levels.length - 1;
      let kind = LITERAL;
      if (level === '+') {
        kind = PLUS;
      } else if (level === '#') {
        kind = HASH;
      } else if (level.startsWith('{')) {
        if (!level.endsWith('}')) throw new RangeError(`topic pattern "${source}": "{" not closed in level "${level}"`);
        let name = level.slice(1, -1);
        kind = CAPTURE;
        if (name.endsWith('#')) {
          name = name.slice(0, -1);
          kind = CAPTURE_REST;
        }
        if (name === '') throw new RangeError(`topic pattern "${source}": empty capture name in level "${level}"`);
        if (!isCaptureName(name)) {
          throw new RangeError(`topic pattern "${source}": capture name "${name}" must be ${CAPTURE_NAME_EXPECTED}`);
        }
        if (names.includes(name)) throw new RangeError(`topic pattern "${source}": capture name "${name}" used twice`);
        names.push(name);
      } else if (/[+#{}]/.test(level)) {
        throw new RangeError(
          `topic pattern "${source}": level "${level}" mixes text with '+', '#', '{' or '}' (wildcards and captures must be a whole level)`,
        );
      }
      if ((kind === HASH || kind === CAPTURE_REST) && !last) {
        throw new RangeError(`topic pattern "${source}": "${level}" must be the last level`);
      }
      kinds[i] = kind;
      literals.push(kind === LITERAL ? level : '');
      filter.push(kind === LITERAL ? level : kind === PLUS || kind === CAPTURE ? '+' : '#');
    }
    this.mqttFilter = filter.join('/');
    this.names = Object.freeze(names);
    this.#kinds = kinds;
    this.#literals = literals;
    this.#spans = new Int32Array(names.length * 2);
    this.#wildFirst = kinds[0] !== LITERAL;
  }

  /** The captures when `topic` matches, else undefined. Allocates only the result (nothing without captures). */
  match(topic: string): Captures | undefined {
    // 36 = '$': system topics are only matched by patterns starting with a literal level.
    if (this.#wildFirst && topic.charCodeAt(0) === 36) return undefined;
    const kinds = this.#kinds;
    const spans = this.#spans;
    const len = topic.length;
    let pos = 0; // start of the current topic level; len + 1 once every level is consumed
    let c = 0; // captures so far
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[i];
      if (kind === HASH) return this.#build(topic, c);
      if (kind === CAPTURE_REST) {
        // `a/{rest#}` on topic `a`: zero levels, captured as ''.
        const start = Math.min(pos, len);
        spans[c * 2] = start;
        spans[c * 2 + 1] = len;
        return this.#build(topic, c + 1);
      }
      if (pos > len) return undefined; // topic has fewer levels than the pattern
      let end = topic.indexOf('/', pos);
      if (end === -1) end = len;
      if (kind === LITERAL) {
        const lit = this.#literals[i]!;
        // Length check first: rejects most mismatches without comparing characters.
        if (end - pos !== lit.length || !topic.startsWith(lit, pos)) return undefined;
      } else if (kind === CAPTURE) {
        spans[c * 2] = pos;
        spans[c * 2 + 1] = end;
        c++;
      }
      pos = end + 1;
    }
    // Every pattern level consumed: the topic must be consumed too.
    return pos === len + 1 ? this.#build(topic, c) : undefined;
  }

  #build(topic: string, count: number): Captures {
    if (count === 0) return NO_CAPTURES;
    const spans = this.#spans;
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = topic.slice(spans[i * 2]!, spans[i * 2 + 1]!);
    return out;
  }
}
