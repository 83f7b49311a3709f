/** Most fields a payload may have for the scanner to take it (repeated keys are found by a linear scan). */
export const MAX_FLAT_FIELDS = 16;

/** Clinger's fast path: an integer below 2^53 times or divided by an exact power of ten is correctly rounded. */
const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];
const MAX_EXACT_DIGITS = 15;

/**
 * Reads the commonest sensor payload — one flat JSON object of plain-ASCII keys and number, boolean or null
 * values, e.g. `{"t":21.5,"h":40,"ts":1733250000000}` — straight from the bytes, with no string of the payload and
 * no object made (JSON.parse + the walk over its object took about 8 % of the gateway's CPU per message).
 *
 * It answers only for what it can read exactly as `JSON.parse` would: `scan` returns false for anything else —
 * any syntax error, strings, nested values, non-ASCII bytes, an escape or a digit at the start of a key (for-in
 * visits integer-like keys first), an empty or repeated key, more than MAX_FLAT_FIELDS fields — and the caller
 * then takes its general path (JSON.parse), which also words the errors. Numbers follow JSON's grammar; their
 * value is exact (Clinger's fast path, else `Number` of the digits, which rounds as JSON.parse does).
 *
 * Synchronous and not re-entrant; the results live in reused arrays until the next `scan`.
 */
export class FlatJsonScanner {
  /** Keys of the last scan, in payload order. */
  readonly keys: string[] = [];
  /** Values of the last scan (number, boolean or null), index by index with `keys`. */
  readonly values: (number | boolean | null)[] = [];
  /** Fields of the last successful scan. */
  count = 0;
  /** The key strings of the previous payloads, by position: devices send the same keys in the same order. */
  readonly #seen: string[] = [];

  scan(buf: Buffer): boolean {
    const end = buf.length;
    let i = skipSpace(buf, 0, end);
    if (i >= end || buf[i] !== 0x7b /* { */) return false;
    i = skipSpace(buf, i + 1, end);
    let n = 0;
    if (i < end && buf[i] === 0x7d /* } */) {
      this.count = 0;
      return skipSpace(buf, i + 1, end) === end;
    }
    while (true) {
      if (n === MAX_FLAT_FIELDS || i >= end || buf[i] !== 0x22 /* " */) return false;
      const keyStart = i + 1;
      let k = keyStart;
      // Printable ASCII other than `"` and `\`; not starting with a digit (integer-like keys change for-in order).
      while (k < end) {
        const c = buf[k]!;
        if (c === 0x22) break;
        if (c < 0x20 || c > 0x7e || c === 0x5c) return false;
        k++;
      }
      if (k >= end || k === keyStart) return false;
      const first = buf[keyStart]!;
      if (first >= 0x30 && first <= 0x39) return false;
      const key = this.#key(buf, keyStart, k, n);
      for (let j = 0; j < n; j++) if (this.keys[j] === key) return false;
      this.keys[n] = key;
      i = skipSpace(buf, k + 1, end);
      if (i >= end || buf[i] !== 0x3a /* : */) return false;
      i = skipSpace(buf, i + 1, end);
      if (i >= end) return false;
      const c = buf[i]!;
      if (c === 0x74 /* t */) {
        if (!literal(buf, i, end, TRUE)) return false;
        this.values[n] = true;
        i += 4;
      } else if (c === 0x66 /* f */) {
        if (!literal(buf, i, end, FALSE)) return false;
        this.values[n] = false;
        i += 5;
      } else if (c === 0x6e /* n */) {
        if (!literal(buf, i, end, NULL)) return false;
        this.values[n] = null;
        i += 4;
      } else {
        const next = this.#number(buf, i, end);
        if (next < 0) return false;
        this.values[n] = this.#value;
        i = next;
      }
      n++;
      i = skipSpace(buf, i, end);
      if (i >= end) return false;
      if (buf[i] === 0x2c /* , */) {
        i = skipSpace(buf, i + 1, end);
        continue;
      }
      if (buf[i] !== 0x7d) return false;
      this.count = n;
      return skipSpace(buf, i + 1, end) === end;
    }
  }

  #value = 0;

  /** Reads a JSON number at `i` into #value; returns the index after it, or -1 when it is not one. */
  #number(buf: Buffer, start: number, end: number): number {
    let i = start;
    let negative = false;
    if (buf[i] === 0x2d /* - */) {
      negative = true;
      i++;
    }
    if (i >= end) return -1;
    let mantissa = 0;
    let digits = 0;
    let c = buf[i]!;
    if (c === 0x30) {
      i++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        i++;
      }
    } else {
      return -1;
    }
    let scale = 0;
    if (i < end && buf[i] === 0x2e /* . */) {
      i++;
      const fracStart = i;
      while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        i++;
      }
      if (i === fracStart) return -1;
      scale = i - fracStart;
    }
    let exponent = 0;
    let exact = digits <= MAX_EXACT_DIGITS;
    if (i < end && (buf[i] === 0x65 || buf[i] === 0x45) /* e E */) {
      i++;
      let expNegative = false;
      if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
        expNegative = buf[i] === 0x2d;
        i++;
      }
      const expStart = i;
      while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
        if (i - expStart < 4) exponent = exponent * 10 + (c - 0x30);
        i++;
      }
      if (i === expStart) return -1;
      if (i - expStart >= 4) exact = false;
      if (expNegative) exponent = -exponent;
    }
    const e = exponent - scale;
    let value: number;
    if (exact && e >= -22 && e <= 22) {
      value = e >= 0 ? mantissa * POW10[e]! : mantissa / POW10[-e]!;
      if (negative) value = -value;
    } else {
      value = Number(buf.toString('latin1', start, i));
    }
    this.#value = value;
    return i;
  }

  /** The key's string: the one at this position in the previous payload when the bytes match, else a new one. */
  #key(buf: Buffer, start: number, end: number, position: number): string {
    const seen = this.#seen[position];
    const length = end - start;
    if (seen !== undefined && seen.length === length) {
      let j = 0;
      while (j < length && seen.charCodeAt(j) === buf[start + j]) j++;
      if (j === length) return seen;
    }
    const key = buf.toString('latin1', start, end);
    this.#seen[position] = key;
    return key;
  }
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function literal(buf: Buffer, i: number, end: number, word: readonly number[]): boolean {
  if (i + word.length > end) return false;
  for (let j = 0; j < word.length; j++) if (buf[i + j] !== word[j]) return false;
  return true;
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
function skipSpace(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
  return i;
}
