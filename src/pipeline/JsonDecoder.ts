import type { Route, TimeUnit } from '../route/Route.ts';
import { type Decoded, type Decoder, type Rejected, rejected } from './Decoder.ts';
import { LineBuilder } from '../lineprotocol/LineBuilder.ts';
import type { Captures } from '../topic/TopicPattern.ts';
import type { FieldPath } from '../route/FieldPath.ts';
import { FlatJsonScanner } from './FlatJsonScanner.ts';
import { BAD_JSON, jsonError, parseJson } from './parseJson.ts';
import { parseTime } from './parseTime.ts';
import { DEFAULT_LIMITS, overBytes, type PointLimits } from './PointLimits.ts';
import type { PointStamp } from './PointStamp.ts';

type Json = Record<string, unknown>;

/** What a JSON.parse object without the key answers for it: inherited properties (`toString`…) included. */
const NO_OWN_KEYS: Json = {};

/** flatten: objects nested deeper than this reject the message (`too_deep`); the walk recurses, and a device must not be able to overflow the stack. */
export const MAX_FLATTEN_DEPTH = 32;

/**
 * `json` payloads: one point per message.
 * Numbers are always float fields: a device sending 21 then 21.5 must not cause an InfluxDB field type conflict.
 * Booleans → bool, strings → string (also "NaN": it stays text). null, and numbers JSON turns into Infinity
 * (1e400), have no line protocol form and are skipped; so are keys that are empty.
 * Nested objects/arrays are ignored unless `flatten` (then `a_b`, arrays `a_0`).
 * `fields` selects dot paths instead of taking every top-level value. The time field is never a field;
 * when it is absent or null the arrival time is used, when present but invalid the message is rejected.
 */
export class JsonDecoder implements Decoder {
  readonly #stamp: PointStamp;
  readonly #fields: readonly FieldPath[];
  readonly #flatten: boolean;
  readonly #time: FieldPath | undefined;
  readonly #timeUnit: TimeUnit;
  readonly #line = new LineBuilder();
  // Per-message state of the field walk, kept on the instance rather than in a closure or result object:
  // decode is synchronous, so one message at a time uses it.
  #badName = '';
  /** Second walk of a message whose text had lone surrogates: names and strings made well-formed. */
  #mend = false;
  #timeParent: unknown = undefined;
  #timeKey = '';
  #tooDeep = false;
  /** Why the walk stopped early on a limit ('' when it did not): the rejection detail. */
  #overLimit = '';
  #overLimitReason: 'too_many_fields' | 'too_long' = 'too_long';
  readonly #limits: PointLimits;
  /**
   * Flat payloads are read from the bytes (FlatJsonScanner) when the route takes every top-level value and its
   * time field, if any, is top-level; undefined otherwise. Anything the scanner does not take goes to JSON.parse.
   */
  readonly #flat: FlatJsonScanner | undefined;

  /** The field paths come compiled and checked by the loader (route/parseRoutes.ts). */
  constructor(route: Route, stamp: PointStamp, limits: PointLimits = DEFAULT_LIMITS) {
    this.#stamp = stamp;
    this.#limits = limits;
    this.#flatten = route.flatten;
    this.#time = route.timePath;
    this.#timeUnit = route.timeUnit;
    this.#fields = route.fieldPaths;
    const timeAtTop = route.timePath === undefined || route.timePath.segments.length === 1;
    this.#flat = route.fieldPaths.length === 0 && timeAtTop ? new FlatJsonScanner() : undefined;
  }

  decode(payload: Buffer, captures: Captures, arrivalUs: number): Decoded | Rejected {
    const flat = this.#flat;
    if (flat?.scan(payload)) return this.#decodeFlat(flat, captures, arrivalUs);
    const root = parseJson(payload.toString('utf8'));
    if (root === BAD_JSON) return rejected('bad_json', jsonError());
    if (root === null || typeof root !== 'object' || Array.isArray(root)) {
      return rejected('not_object', `payload is ${root === null ? 'null' : Array.isArray(root) ? 'an array' : typeof root}, not an object`);
    }
    let us = arrivalUs;
    this.#timeParent = undefined;
    const time = this.#time;
    if (time !== undefined) {
      const parent = time.parent(root);
      const key = time.segments[time.segments.length - 1]!;
      const value = parent === undefined ? undefined : (parent as Json)[key];
      if (value !== undefined && value !== null) {
        const parsed = parseTime(value, this.#timeUnit);
        if (parsed === undefined) return rejected('bad_time', `${time.path} = ${preview(value)} is not a time (unit ${this.#timeUnit})`);
        us = parsed;
      }
      // Remembered by identity so the walk skips exactly this property, however deep.
      this.#timeParent = parent;
      this.#timeKey = key;
    }
    const stamp = this.#stamp;
    const series = stamp.series(captures);
    if (series === undefined) return rejected('bad_name', stamp.seriesError);
    const line = this.#line;
    line.reset();
    this.#badName = '';
    this.#tooDeep = false;
    this.#overLimit = '';
    this.#walk(line, root as Json);
    const refused = this.#refusal(line);
    if (refused !== undefined) {
      this.#timeParent = undefined;
      return refused;
    }
    let lines = line.line(series, String(us));
    if (!lines.isWellFormed()) {
      // JSON escapes can make lone surrogates (`"\ud800"`), which no UTF-8 file or server can hold. Names and
      // strings are walked again with them as U+FFFD — what the spool's UTF-8 makes of them anyway — so every sink
      // sees the same text whether it reads the file or memory (Redis's cjson refuses the whole batch otherwise).
      this.#mend = true;
      line.reset();
      this.#walk(line, root as Json);
      this.#mend = false;
      lines = line.line(series, String(us));
    }
    this.#timeParent = undefined; // do not keep the payload alive until the next message
    return { kind: 'decoded', lines, points: 1 };
  }

  /**
   * The same decision as the general path for a payload the scanner read: the same time lookup, the same
   * #addValue per top-level field in payload order (what for-in visits: the scanner refuses integer-like keys),
   * the same refusals. Its text is ASCII, so the line is well-formed.
   */
  #decodeFlat(flat: FlatJsonScanner, captures: Captures, arrivalUs: number): Decoded | Rejected {
    const { keys, values, count } = flat;
    let us = arrivalUs;
    let timeIndex = -1;
    const time = this.#time;
    if (time !== undefined) {
      const key = time.segments[0]!;
      timeIndex = keys.indexOf(key);
      if (timeIndex >= count) timeIndex = -1;
      const value = timeIndex === -1 ? NO_OWN_KEYS[key] : values[timeIndex];
      if (value !== undefined && value !== null) {
        const parsed = parseTime(value, this.#timeUnit);
        if (parsed === undefined) return rejected('bad_time', `${time.path} = ${preview(value)} is not a time (unit ${this.#timeUnit})`);
        us = parsed;
      }
    }
    const stamp = this.#stamp;
    const series = stamp.series(captures);
    if (series === undefined) return rejected('bad_name', stamp.seriesError);
    const line = this.#line;
    line.reset();
    this.#badName = '';
    this.#tooDeep = false;
    this.#overLimit = '';
    for (let i = 0; i < count; i++) {
      if (this.#overLimit !== '') break;
      if (i !== timeIndex) this.#addValue(line, keys[i]!, values[i], 0);
    }
    return this.#refusal(line) ?? { kind: 'decoded', lines: line.line(series, String(us)), points: 1 };
  }

  /** Why the walk's line cannot be written, in the order the checks are made; undefined when it can. */
  #refusal(line: LineBuilder): Rejected | undefined {
    if (!this.#tooDeep && this.#badName === '' && this.#overLimit === '' && line.fieldCount > 0) return undefined;
    if (this.#overLimit !== '') return rejected(this.#overLimitReason, this.#overLimit);
    if (this.#tooDeep) return rejected('too_deep', `objects nested deeper than ${MAX_FLATTEN_DEPTH} levels cannot be flattened`);
    if (this.#badName !== '') return rejected('bad_name', `field key "${this.#badName}" cannot be written as line protocol`);
    return rejected('no_fields', 'no number, boolean or string field in the payload');
  }

  #walk(line: LineBuilder, root: Json): void {
    const fields = this.#fields;
    if (fields.length === 0) {
      this.#addObject(line, root, '', 0);
    } else {
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        this.#addValue(line, f.name, f.get(root), 0);
      }
    }
  }

  #addObject(line: LineBuilder, obj: Json, prefix: string, depth: number): void {
    if (depth > MAX_FLATTEN_DEPTH) {
      this.#tooDeep = true;
      return;
    }
    const timeParent = this.#timeParent;
    // for-in over JSON.parse output: own enumerable keys only, no array allocated (unlike Object.keys).
    for (const key in obj) {
      if (this.#overLimit !== '') return; // stop the walk: the message is refused anyway
      if (obj === timeParent && key === this.#timeKey) continue;
      this.#addValue(line, prefix === '' ? key : `${prefix}_${key}`, obj[key], depth);
    }
  }

  #addValue(line: LineBuilder, path: string, value: unknown, depth: number): void {
    const name = this.#mend ? path.toWellFormed() : path;
    switch (typeof value) {
      case 'number':
        if (!Number.isFinite(value)) return;
        if (this.#checkName(name) && !line.float(name, value)) this.#badName = name;
        return;
      case 'boolean':
        if (this.#checkName(name) && !line.bool(name, value)) this.#badName = name;
        return;
      case 'string':
        if (!this.#checkName(name)) return;
        if (overBytes(value, this.#limits.maxStringBytes)) {
          this.#overLimit = `string field "${name.slice(0, 64)}" is longer than ${this.#limits.maxStringBytes} bytes`;
          this.#overLimitReason = 'too_long';
          return;
        }
        if (!line.string(name, this.#mend ? value.toWellFormed() : value)) this.#badName = name;
        return;
      case 'object':
        if (value !== null && this.#flatten) this.#addObject(line, value as Json, path, depth + 1);
        return;
    }
  }

  /**
   * False for a name that is skipped (empty) or fails the message on a limit: over the size, or a field beyond the
   * last allowed (#overLimit; the walk stops there). Whether it can be written at all, LineBuilder answers (cached).
   */
  #checkName(name: string): boolean {
    if (name === '') return false;
    const limits = this.#limits;
    if (overBytes(name, limits.maxNameBytes)) {
      this.#overLimit = `field key "${name.slice(0, 64)}…" is longer than ${limits.maxNameBytes} bytes`;
      this.#overLimitReason = 'too_long';
      return false;
    }
    // A repeated key (flattening) replaces a field, so count only when the line would grow past the limit.
    if (this.#line.fieldCount >= limits.maxFields) {
      this.#overLimit = `more than ${limits.maxFields} fields`;
      this.#overLimitReason = 'too_many_fields';
      return false;
    }
    return true;
  }
}

/** A bounded, printable rendering of a bad value for the rejection detail (JSON.stringify could recurse into anything). */
function preview(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
