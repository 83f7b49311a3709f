/**
 * InfluxDB line protocol reader: validates `line` payloads and lets the Redis sink read back the points the gateway
 * wrote. It reads a line as InfluxDB 1.x/2.x `models/points.go` does (the corpus check in
 * test/unit/lineprotocol/corpus.test.ts; deliberate differences in docs/line-protocol.md):
 * - leading spaces, tabs and NULs are skipped.
 * - measurement, tag keys, tag values: a character right after a backslash is escaped, whatever that backslash
 *   itself was (`two\\ words` is one tag value, `two\ words`); unescaping drops the backslash before `,` and space
 *   (tags: and `=`). A tag value may start with `=`. A repeated tag key refuses the line.
 * - field keys: backslash pairs are skipped while scanning; unescaping drops a backslash before `,` `=` space `"`.
 *   A field key ending in a backslash is refused (InfluxDB validates and splits it inconsistently).
 * - string field values: `\"` → `"`, `\\` → `\`, any other backslash literal; raw newlines are allowed inside
 *   the quotes, which is why `splitLines` must be used instead of `split('\n')`.
 * - integers `12i` (int64), unsigned `12u` (uint64), leading zeros allowed (`00018446744073709551615u`);
 *   booleans t/T/true/True/TRUE/f/F/false/False/FALSE; floats `-1.5`, `1e+21`, `.5`, `1.`; NaN and Inf refused.
 * - timestamp: optional int64 after spaces or tabs, only spaces after it, kept as text. One trailing CR (CRLF
 *   payloads) is tolerated, which InfluxDB does not.
 */

import { isFloatToken, isInt64Digits, isUint64Digits } from './numericTokens.ts';

/**
 * One field. int/uint values are the decimal digits as written (sign included, no suffix, leading zeros kept):
 * int64/uint64 do not fit a JS number.
 */
export type ParsedField =
  | { readonly name: string; readonly kind: 'float'; readonly value: number }
  | { readonly name: string; readonly kind: 'int'; readonly value: string }
  | { readonly name: string; readonly kind: 'uint'; readonly value: string }
  | { readonly name: string; readonly kind: 'bool'; readonly value: boolean }
  | { readonly name: string; readonly kind: 'string'; readonly value: string };

export type FieldKind = ParsedField['kind'];

export interface ParsedLine {
  /** Unescaped. */
  readonly measurement: string;
  /** Unescaped [key, value] pairs in line order; keys unique. */
  readonly tags: Array<readonly [string, string]>;
  /** In line order; a repeated name appears twice (InfluxDB keeps the last). */
  readonly fields: ParsedField[];
  /** The integer text as written, unit unknown to the parser; undefined when the line has none. */
  readonly timestamp: string | undefined;
}

/** What `parseLine` answers: the point, or why the line is not one. */
export type ParseResult = { readonly ok: true; readonly line: ParsedLine } | { readonly ok: false; readonly error: string };

// Character codes: comparing numbers avoids a one-char string per step.
const BACKSLASH = 92;
const COMMA = 44;
const SPACE = 32;
const TAB = 9;
const NUL = 0;
const EQUALS = 61;
const QUOTE = 34;
const NEWLINE = 10;
const CR = 13;
const HASH = 35;

/** More tags than this: duplicates are found with a Set instead of a scan of the ones before. */
const FEW_TAGS = 8;

// Cursor and error shared by the helpers: parsing is synchronous and not re-entrant, so module state replaces a
// per-call context. A const object, not `let`s: module-level lets cost a context load and a TDZ check per access.
const cur = { pos: 0, end: 0, error: '' };

function fail(error: string): ParseResult {
  return { ok: false, error };
}

/** Parses one line (no line break outside string fields). */
export function parseLine(line: string): ParseResult {
  let len = line.length;
  if (len > 0 && line.charCodeAt(len - 1) === CR) len--; // CRLF
  cur.end = len;
  cur.error = '';
  cur.pos = skipWhitespace(line, 0);
  if (line.charCodeAt(cur.pos) === HASH) return fail('line is a comment (starts with "#")');
  if (cur.pos >= len || line.charCodeAt(cur.pos) === COMMA) return fail(`missing measurement at column ${cur.pos + 1}`);
  const measurement = readKeyPart(line, MEASUREMENT);
  if (cur.error !== '') return fail(cur.error);
  const tags: Array<readonly [string, string]> = [];
  let seen: Set<string> | undefined;
  while (line.charCodeAt(cur.pos) === COMMA) {
    cur.pos++;
    const c = line.charCodeAt(cur.pos);
    if (cur.pos >= len || c === SPACE || c === COMMA || c === EQUALS) return fail(`missing tag key at column ${cur.pos + 1}`);
    const key = readKeyPart(line, TAG_KEY);
    if (cur.error !== '') return fail(cur.error);
    if (line.charCodeAt(cur.pos) !== EQUALS) return fail(`missing "=" after tag key "${key}" at column ${cur.pos + 1}`);
    cur.pos++;
    const v = line.charCodeAt(cur.pos);
    if (cur.pos >= len || v === SPACE || v === COMMA) return fail(`missing value of tag "${key}" at column ${cur.pos + 1}`);
    const value = readKeyPart(line, TAG_VALUE);
    if (cur.error !== '') return fail(cur.error);
    if (tags.length < FEW_TAGS) {
      for (let i = 0; i < tags.length; i++) if (tags[i]![0] === key) return fail(`duplicate tag key "${key}"`);
    } else {
      seen ??= new Set(tags.map((t) => t[0]));
      if (seen.has(key)) return fail(`duplicate tag key "${key}"`);
      seen.add(key);
    }
    tags.push([key, value]);
  }
  if (cur.pos >= len) return fail('missing fields');
  cur.pos = skipWhitespace(line, cur.pos); // at the unescaped space that ends the key
  if (cur.pos >= len) return fail('missing fields');
  const fields: ParsedField[] = [];
  for (;;) {
    const name = readFieldKey(line);
    if (name === undefined) return fail(cur.error);
    cur.pos++; // '='
    const field = readField(line, name);
    if (field === undefined) return fail(cur.error);
    fields.push(field);
    if (cur.pos < len && line.charCodeAt(cur.pos) === COMMA) {
      cur.pos++;
      continue;
    }
    break;
  }
  let timestamp: string | undefined;
  if (cur.pos < len) {
    if (line.charCodeAt(cur.pos) !== SPACE) return fail(`unexpected character after fields at column ${cur.pos + 1}`);
    cur.pos = skipWhitespace(line, cur.pos);
    if (cur.pos < len) {
      const start = cur.pos;
      while (cur.pos < len && line.charCodeAt(cur.pos) !== SPACE) cur.pos++;
      timestamp = line.slice(start, cur.pos);
      if (!isInt64Digits(timestamp)) {
        return fail(`invalid timestamp "${timestamp}" at column ${start + 1}`);
      }
      while (cur.pos < len && line.charCodeAt(cur.pos) === SPACE) cur.pos++;
      if (cur.pos < len) return fail(`trailing characters after timestamp at column ${cur.pos + 1}`);
    }
  }
  return { ok: true, line: { measurement, tags, fields, timestamp } };
}

/** InfluxDB's skipWhitespace: spaces, tabs and NULs. */
function skipWhitespace(line: string, pos: number): number {
  const len = cur.end;
  while (pos < len) {
    const c = line.charCodeAt(pos);
    if (c !== SPACE && c !== TAB && c !== NUL) break;
    pos++;
  }
  return pos;
}

const MEASUREMENT = 0;
const TAG_KEY = 1;
const TAG_VALUE = 2;

/**
 * Reads a measurement, tag key or tag value from a first character already checked, up to the delimiter that
 * ends it; a character right after a backslash never delimits (InfluxDB's `buf[i-1] != '\\'`).
 * Ends at the delimiter (cur.pos), or sets cur.error.
 */
function readKeyPart(line: string, part: number): string {
  const len = cur.end;
  const start = cur.pos;
  let escapes = false;
  let i = start;
  if (line.charCodeAt(i) === NEWLINE) {
    cur.error = `unexpected newline at column ${i + 1}`;
    return '';
  }
  for (;;) {
    if (line.charCodeAt(i) === BACKSLASH) escapes = true;
    i++;
    if (i >= len) {
      cur.pos = i;
      cur.error = part === TAG_KEY ? `missing "=" after tag key at column ${i + 1}` : 'missing fields';
      return '';
    }
    const c = line.charCodeAt(i);
    if (line.charCodeAt(i - 1) === BACKSLASH) continue; // an escaped newline too, as InfluxDB reads it
    if (c === NEWLINE) {
      cur.error = `unexpected newline at column ${i + 1}`;
      return '';
    }
    if (c === COMMA || c === SPACE) {
      if (part === TAG_KEY) {
        cur.pos = i;
        cur.error = `missing "=" after tag key "${line.slice(start, i)}" at column ${i + 1}`;
        return '';
      }
      break;
    }
    if (c === EQUALS) {
      if (part === TAG_KEY) break;
      if (part === TAG_VALUE) {
        cur.error = `unescaped "=" in tag value at column ${i + 1}`;
        return '';
      }
    }
  }
  cur.pos = i;
  const raw = line.slice(start, i);
  return escapes ? unescapeName(raw, part === MEASUREMENT ? MEASUREMENT_ESCAPES : TAG_ESCAPES) : raw;
}

// The characters a backslash escapes in each part: the backslash before them is dropped.
const MEASUREMENT_ESCAPES = [COMMA, SPACE];
const TAG_ESCAPES = [COMMA, SPACE, EQUALS];
const FIELD_KEY_ESCAPES = [COMMA, SPACE, EQUALS, QUOTE];

/** Drops each backslash that is right before one of `escaped` (InfluxDB's unescapeTag / escape.Unescape). */
function unescapeName(raw: string, escaped: readonly number[]): string {
  let out = '';
  let chunk = 0;
  for (let i = 0; i < raw.length - 1; i++) {
    if (raw.charCodeAt(i) === BACKSLASH && escaped.includes(raw.charCodeAt(i + 1))) {
      out += raw.slice(chunk, i);
      chunk = i + 1;
    }
  }
  return out + raw.slice(chunk);
}

/** Reads a field key up to its '=' (left at cur.pos); backslash pairs are skipped. Undefined + cur.error when bad. */
function readFieldKey(line: string): string | undefined {
  const len = cur.end;
  const start = cur.pos;
  let escapes = false;
  let i = start;
  while (i < len) {
    const c = line.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < len) {
      escapes = true;
      i += 2;
      continue;
    }
    if (c === EQUALS) break;
    if (c === COMMA || c === SPACE || c === NEWLINE) {
      cur.error =
        i === start ? `missing field key at column ${i + 1}` : `missing "=" after field key "${line.slice(start, i)}" at column ${i + 1}`;
      return undefined;
    }
    i++;
  }
  if (i >= len) {
    cur.error = i === start ? 'missing field key' : `missing "=" after field key "${line.slice(start, i)}"`;
    return undefined;
  }
  if (i === start) {
    cur.error = `missing field key at column ${i + 1}`;
    return undefined;
  }
  if (line.charCodeAt(i - 1) === BACKSLASH) {
    cur.error = `field key "${line.slice(start, i)}" ends in a backslash at column ${i}`;
    return undefined;
  }
  cur.pos = i;
  const raw = line.slice(start, i);
  return escapes ? unescapeName(raw, FIELD_KEY_ESCAPES) : raw;
}

function readField(line: string, name: string): ParsedField | undefined {
  const len = cur.end;
  if (line.charCodeAt(cur.pos) === QUOTE) {
    const open = cur.pos;
    cur.pos++;
    let out = '';
    let chunk = cur.pos;
    while (cur.pos < len) {
      const c = line.charCodeAt(cur.pos);
      if (c === BACKSLASH && cur.pos + 1 < len) {
        const next = line.charCodeAt(cur.pos + 1);
        if (next === QUOTE || next === BACKSLASH) {
          out += line.slice(chunk, cur.pos);
          chunk = cur.pos + 1;
        }
        cur.pos += 2;
        continue;
      }
      if (c === QUOTE) {
        out += line.slice(chunk, cur.pos);
        cur.pos++;
        return { name, kind: 'string', value: out };
      }
      cur.pos++;
    }
    cur.error = `unterminated string in field "${name}" starting at column ${open + 1}`;
    return undefined;
  }
  const start = cur.pos;
  while (cur.pos < len) {
    const c = line.charCodeAt(cur.pos);
    if (c === COMMA || c === SPACE) break;
    cur.pos++;
  }
  const token = line.slice(start, cur.pos);
  if (token === '') {
    cur.error = `missing value of field "${name}" at column ${start + 1}`;
    return undefined;
  }
  const last = token.charCodeAt(token.length - 1);
  if (last === 105 /* i */) {
    const digits = token.slice(0, -1);
    if (isInt64Digits(digits)) return { name, kind: 'int', value: digits };
  } else if (last === 117 /* u */) {
    const digits = token.slice(0, -1);
    if (isUint64Digits(digits)) return { name, kind: 'uint', value: digits };
  } else if (isFloatToken(token)) {
    // Checked by hand, not by regex: this is the most common field and a regex test costs more than the parse.
    const value = Number(token);
    if (Number.isFinite(value)) return { name, kind: 'float', value };
    cur.error = `float out of range in field "${name}": ${token}`;
    return undefined;
  } else {
    switch (token) {
      case 't':
      case 'T':
      case 'true':
      case 'True':
      case 'TRUE':
        return { name, kind: 'bool', value: true };
      case 'f':
      case 'F':
      case 'false':
      case 'False':
      case 'FALSE':
        return { name, kind: 'bool', value: false };
    }
  }
  cur.error = `invalid value of field "${name}" at column ${start + 1}: ${token.length > 40 ? `${token.slice(0, 40)}…` : token}`;
  return undefined;
}
