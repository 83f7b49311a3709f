/**
 * InfluxDB line protocol reader: validates `line` payloads and lets the Redis sink read back the points the gateway wrote.
 *
 * Escaping follows the InfluxDB (Go) parser that `Point` writes for:
 * - measurement: `\,` and `\ ` are escapes; tag keys, tag values, field keys: `\,` `\ ` `\=`.
 *   Any other backslash is literal and keeps the next character literal too (`\\` is two backslashes,
 *   and `\n` is backslash + 'n': Point writes a newline in a name that way and InfluxDB stores exactly that).
 * - string field values: `\"` → `"`, `\\` → `\`, any other backslash literal; raw newlines are allowed inside
 *   the quotes (Point does not escape them), which is why `splitLines` (splitLines.ts) must be used instead of `split('\n')`.
 * - integers `12i` (int64), unsigned `12u` (uint64), booleans t/T/true/True/TRUE/f/F/false/False/FALSE,
 *   floats `-1.5`, `1e+21`, `.5`; NaN and Inf are rejected. Timestamp: optional signed integer, kept as text.
 */

// Re-exported: the Redis sink and the spool import it from here.
export { splitLines } from './splitLines.ts';

/**
 * One field. int/uint values are the exact decimal digits (sign included, no suffix): int64/uint64 do not fit
 * a JS number, and the text re-serialises losslessly (`${value}i`).
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
  /** Unescaped [key, value] pairs in line order. */
  readonly tags: Array<readonly [string, string]>;
  /** In line order; a repeated name appears twice (InfluxDB keeps the last). */
  readonly fields: ParsedField[];
  /** The integer text as written, unit unknown to the parser; undefined when the line has none. */
  readonly timestamp: string | undefined;
}

// Character codes: comparing numbers avoids a one-char string per step.
const BACKSLASH = 92;
const COMMA = 44;
const SPACE = 32;
const EQUALS = 61;
const QUOTE = 34;
const NEWLINE = 10;
const HASH = 35;

const INT_MAX = '9223372036854775807';
const INT_MIN = '9223372036854775808';
const UINT_MAX = '18446744073709551615';

// Cursor and error shared by the helpers: parsing is synchronous and not re-entrant, so module state replaces a
// per-call context. A const object, not `let`s: module-level lets cost a context load and a TDZ check per access.
const cur = { pos: 0, error: '' };

/** Parses one line (no line break outside string fields). Returns the point, or an error message. */
export function parseLine(line: string): ParsedLine | string {
  const len = line.length;
  cur.pos = 0;
  cur.error = '';
  while (cur.pos < len && line.charCodeAt(cur.pos) === SPACE) cur.pos++;
  if (line.charCodeAt(cur.pos) === HASH) return 'line is a comment (starts with "#")';
  const measurement = readName(line, false);
  if (cur.error !== '') return cur.error;
  if (measurement === '') return 'missing measurement at column 1';
  const tags: Array<readonly [string, string]> = [];
  while (cur.pos < len && line.charCodeAt(cur.pos) === COMMA) {
    cur.pos++;
    const key = readName(line, true);
    if (cur.error !== '') return cur.error;
    if (key === '') return `missing tag key at column ${cur.pos + 1}`;
    if (line.charCodeAt(cur.pos) !== EQUALS) return `missing "=" after tag key "${key}" at column ${cur.pos + 1}`;
    cur.pos++;
    const value = readName(line, true);
    if (cur.error !== '') return cur.error;
    if (value === '') return `missing value of tag "${key}" at column ${cur.pos + 1}`;
    if (line.charCodeAt(cur.pos) === EQUALS) return `unescaped "=" in value of tag "${key}" at column ${cur.pos + 1}`;
    tags.push([key, value]);
  }
  if (!skipSpaces(line)) return cur.pos >= len ? 'missing fields' : `unexpected character at column ${cur.pos + 1}`;
  const fields: ParsedField[] = [];
  for (;;) {
    const name = readName(line, true);
    if (cur.error !== '') return cur.error;
    if (name === '') return `missing field key at column ${cur.pos + 1}`;
    if (line.charCodeAt(cur.pos) !== EQUALS) return `missing "=" after field key "${name}" at column ${cur.pos + 1}`;
    cur.pos++;
    const field = readField(line, name);
    if (field === undefined) return cur.error;
    fields.push(field);
    if (cur.pos < len && line.charCodeAt(cur.pos) === COMMA) {
      cur.pos++;
      continue;
    }
    break;
  }
  let timestamp: string | undefined;
  if (cur.pos < len) {
    if (!skipSpaces(line)) return `unexpected character after fields at column ${cur.pos + 1}`;
    if (cur.pos < len) {
      const start = cur.pos;
      while (cur.pos < len && line.charCodeAt(cur.pos) !== SPACE && line.charCodeAt(cur.pos) !== 13) cur.pos++;
      timestamp = line.slice(start, cur.pos);
      if (!isInteger(timestamp, true)) return `invalid timestamp "${timestamp}" at column ${start + 1}`;
      // Trailing spaces and a CR (CRLF payloads) are tolerated; anything else is garbage.
      while (cur.pos < len && (line.charCodeAt(cur.pos) === SPACE || line.charCodeAt(cur.pos) === 13)) cur.pos++;
      if (cur.pos < len) return `trailing characters after timestamp at column ${cur.pos + 1}`;
    }
  }
  return { measurement, tags, fields, timestamp };
}

/** Skips one or more spaces; false when there was none. */
function skipSpaces(line: string): boolean {
  const start = cur.pos;
  while (cur.pos < line.length && line.charCodeAt(cur.pos) === SPACE) cur.pos++;
  return cur.pos > start;
}

/**
 * Reads a measurement (tagLike false) or a tag key/value or field key (tagLike true) up to an unescaped
 * delimiter, unescaping as it goes. Copies in chunks: most names have no backslash and come out as one slice.
 */
function readName(line: string, tagLike: boolean): string {
  const len = line.length;
  let out = '';
  let chunk = cur.pos;
  while (cur.pos < len) {
    const c = line.charCodeAt(cur.pos);
    if (c === BACKSLASH) {
      if (cur.pos + 1 >= len) {
        cur.pos++; // a trailing backslash is literal
        break;
      }
      const next = line.charCodeAt(cur.pos + 1);
      if (next === COMMA || next === SPACE || (tagLike && next === EQUALS)) {
        out += line.slice(chunk, cur.pos);
        chunk = cur.pos + 1; // drop the backslash, keep the escaped character
      }
      cur.pos += 2;
      continue;
    }
    if (c === COMMA || c === SPACE || (tagLike && c === EQUALS)) break;
    if (c === NEWLINE) {
      cur.error = `unexpected newline at column ${cur.pos + 1}`;
      return '';
    }
    cur.pos++;
  }
  return out + line.slice(chunk, cur.pos);
}

function readField(line: string, name: string): ParsedField | undefined {
  const len = line.length;
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
    if (isInteger(digits, true) && inRange(digits, digits.charCodeAt(0) === 45 ? INT_MIN : INT_MAX)) {
      return { name, kind: 'int', value: digits };
    }
  } else if (last === 117 /* u */) {
    const digits = token.slice(0, -1);
    if (isInteger(digits, false) && inRange(digits, UINT_MAX)) return { name, kind: 'uint', value: digits };
  } else if (isFloat(token)) {
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
  cur.error = `invalid value of field "${name}" at column ${start + 1}: ${token}`;
  return undefined;
}

/** Whether the decimal digits (optionally '-'-prefixed) are at most `max` in magnitude. */
function inRange(digits: string, max: string): boolean {
  let i = digits.charCodeAt(0) === 45 ? 1 : 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++; // leading zeros
  const magnitude = digits.length - i;
  if (magnitude !== max.length) return magnitude < max.length;
  return digits.slice(i) <= max; // same length: string order is numeric order
}

/** `-?\d+` (signed) or `\d+`. */
function isInteger(s: string, signed: boolean): boolean {
  let i = signed && s.charCodeAt(0) === 45 ? 1 : 0;
  if (i >= s.length) return false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`: no NaN, Inf, hex, '+' or '_' (which Number() would take). */
function isFloat(s: string): boolean {
  const len = s.length;
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  while (i < len && isDigit(s.charCodeAt(i))) i++, digits++;
  if (i < len && s.charCodeAt(i) === 46 /* . */) {
    i++;
    while (i < len && isDigit(s.charCodeAt(i))) i++, digits++;
  }
  if (digits === 0) return false;
  if (i < len && (s.charCodeAt(i) | 32) === 101 /* e or E */) {
    i++;
    if (i < len && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const start = i;
    while (i < len && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
  }
  return i === len;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
