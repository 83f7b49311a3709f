import { escapeKey, quoteString } from './escape.ts';
import { isWritableName } from './isWritableName.ts';

/** Field keys seen by one route are few; beyond this the cache of their escaped forms starts over. */
const MAX_CACHED_KEYS = 10_000;
/**
 * Up to this many fields, repeated keys are found by a linear scan and the fields sorted by insertion (cheapest
 * for the few fields of a sensor reading); beyond it a Map and Array.sort keep a payload of thousands of fields
 * from costing quadratic time.
 */
const SMALL = 16;

/**
 * Writes one line of line protocol: fields sorted by key (UTF-16 order), the last value of a repeated key kept,
 * keys through `escapeKey`, floats as `String(n)`, booleans `T`/`F`, strings through `quoteString`, integers as
 * canonical digits. A key that fails `isWritableName` is not added (the setter answers false). No object per
 * message: the series prefix (measurement and tags) comes ready-made from `PointStamp`, field keys are checked and
 * escaped once and cached (one Map lookup per field), and the fields of the current line live in reused arrays.
 *
 * Synchronous and not re-entrant: one decoder owns one builder.
 */
export class LineBuilder {
  /** Key → its escaped form, '' when it cannot be written. */
  readonly #escapedKeys = new Map<string, string>();
  #keys: string[] = [];
  #escaped: string[] = [];
  #values: string[] = [];
  #count = 0;
  /** Key → index, only while the line has more than SMALL fields. */
  #index: Map<string, number> | undefined;

  /** Starts a new line (forgets the fields of the previous one). */
  reset(): void {
    this.#count = 0;
    this.#index = undefined;
  }

  get fieldCount(): number {
    return this.#count;
  }

  /** A finite number (the caller checks): written as `String(n)`. */
  float(key: string, value: number): boolean {
    return this.#set(key, String(value));
  }

  bool(key: string, value: boolean): boolean {
    return this.#set(key, value ? 'T' : 'F');
  }

  string(key: string, value: string): boolean {
    return this.#set(key, quoteString(value));
  }

  /** An int64 (`signed`) or uint64 given as decimal digits already checked in range: written without leading zeros. */
  integer(key: string, digits: string, signed: boolean): boolean {
    return this.#set(key, `${canonicalDigits(digits)}${signed ? 'i' : 'u'}`);
  }

  /** `prefix`: the escaped series (measurement and tags); `timestampUs`: integer text. */
  line(prefix: string, timestampUs: string): string {
    const n = this.#count;
    if (n > SMALL) this.#sortLarge();
    const keys = this.#keys;
    const escaped = this.#escaped;
    const values = this.#values;
    // Insertion sort: a handful of fields, usually already in order; `<` compares UTF-16 code units like sort().
    for (let i = 1; i < n; i++) {
      const k = keys[i]!;
      const e = escaped[i]!;
      const v = values[i]!;
      let j = i - 1;
      while (j >= 0 && keys[j]! > k) {
        keys[j + 1] = keys[j]!;
        escaped[j + 1] = escaped[j]!;
        values[j + 1] = values[j]!;
        j--;
      }
      keys[j + 1] = k;
      escaped[j + 1] = e;
      values[j + 1] = v;
    }
    let out = `${prefix} ${escaped[0]!}=${values[0]!}`;
    for (let i = 1; i < n; i++) out += `,${escaped[i]!}=${values[i]!}`;
    return `${out} ${timestampUs}`;
  }

  /** False when the key cannot be written (nothing is added). */
  #set(key: string, value: string): boolean {
    const escaped = this.#escapeKey(key);
    if (escaped === '') return false;
    const keys = this.#keys;
    const n = this.#count;
    // A repeated key replaces the earlier value (flattening can repeat a key).
    if (n < SMALL) {
      for (let i = 0; i < n; i++) {
        if (keys[i] === key) {
          this.#values[i] = value;
          return true;
        }
      }
    } else {
      const index = (this.#index ??= new Map(keys.slice(0, n).map((k, i) => [k, i])));
      const at = index.get(key);
      if (at !== undefined) {
        this.#values[at] = value;
        return true;
      }
      index.set(key, n);
    }
    keys[n] = key;
    this.#escaped[n] = escaped;
    this.#values[n] = value;
    this.#count = n + 1;
    return true;
  }

  /** Sorts a large line's fields with Array.sort (the insertion sort that follows then finds them in order). */
  #sortLarge(): void {
    const n = this.#count;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (this.#keys[a]! < this.#keys[b]! ? -1 : 1));
    const keys = order.map((i) => this.#keys[i]!);
    const escaped = order.map((i) => this.#escaped[i]!);
    const values = order.map((i) => this.#values[i]!);
    this.#keys = keys;
    this.#escaped = escaped;
    this.#values = values;
  }

  #escapeKey(key: string): string {
    let escaped = this.#escapedKeys.get(key);
    if (escaped === undefined) {
      if (this.#escapedKeys.size >= MAX_CACHED_KEYS) this.#escapedKeys.clear();
      escaped = key !== '' && isWritableName(key) ? escapeKey(key) : '';
      this.#escapedKeys.set(key, escaped);
    }
    return escaped;
  }
}

/**
 * `-?\d+` without leading zeros (`-0` → `0`): InfluxDB reads `00018446744073709551615u` as 18446744073709551615,
 * and one spelling per value keeps every sink's copy the same (and within 20 digits, which uint64 readers expect).
 */
export function canonicalDigits(digits: string): string {
  const negative = digits.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  if (digits.charCodeAt(i) !== 48) return digits;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  const magnitude = digits.slice(i);
  return negative && magnitude !== '0' ? `-${magnitude}` : magnitude;
}
