/** How a field's value is written: its bytes as they are (numbers, and text already JSON-escaped), or a boolean. */
export const AS_IS = 0;
export const TRUE = 1;
export const FALSE = 2;

/** Numbers per field in `SimpleLine.fields`: nameStart, nameEnd, valueStart, valueEnd, kind. */
export const FIELD = 5;

const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

/**
 * Reads one line of line protocol as bytes, without making a string, when it is of the simple kind the router
 * writes for nearly every message: no quotes, backslashes or control characters (so no string fields and no
 * escapes), numbers and booleans only, a timestamp of plain digits. Anything else answers false and goes to the
 * full parser. The results stay on the instance (one line at a time): no object per line.
 */
export class SimpleLine {
  /** Offset of the space that ends the series key (measurement and tags). */
  seriesEnd = 0;
  /** The timestamp's offset; its text minus the last three digits is the time in ms. */
  timeStart = 0;
  timeMs = 0;
  fieldCount = 0;
  /** FIELD numbers per field. */
  readonly fields: number[] = [];

  /** Reads `text[start, end)`; false when the line needs the full parser. */
  scan(text: Uint8Array, start: number, end: number): boolean {
    let firstSpace = -1;
    let lastSpace = -1;
    // One pass: find the two unescaped spaces, refuse what needs escaping in JSON or unescaping in line protocol.
    for (let i = start; i < end; i++) {
      const c = text[i]!;
      if (c <= QUOTE) {
        if (c === SPACE) {
          // A third space (runs of separators, a space inside the field section): the parser decides.
          if (lastSpace !== firstSpace) return false;
          if (firstSpace < 0) firstSpace = i;
          lastSpace = i;
        } else if (c !== 0x21 /* ! */) {
          return false; // '"' or a control character (a raw newline included)
        }
      } else if (c === BACKSLASH) {
        return false;
      }
    }
    if (firstSpace <= start || lastSpace <= firstSpace + 1 || text[lastSpace - 1] === COMMA) return false;
    if (!this.#time(text, lastSpace + 1, end)) return false;
    // The field section has no space left in it: any space was the first or the last.
    const fields = this.fields;
    let n = 0;
    let p = firstSpace + 1;
    while (p < lastSpace) {
      let q = p;
      while (q < lastSpace && text[q] !== EQUALS && text[q] !== COMMA) q++;
      if (q === p || q === lastSpace || text[q] !== EQUALS) return false;
      const v = q + 1;
      let r = v;
      while (r < lastSpace && text[r] !== COMMA && text[r] !== EQUALS) r++;
      if (r === v || (r < lastSpace && text[r] === EQUALS)) return false;
      const kind = valueKind(text, v, r);
      if (kind < 0) return false;
      fields[n] = p;
      fields[n + 1] = q;
      fields[n + 2] = v;
      // Integers `12i` and unsigned `12u` are stored as their digits.
      fields[n + 3] = kind === AS_IS && (text[r - 1] === 0x69 || text[r - 1] === 0x75) ? r - 1 : r;
      fields[n + 4] = kind;
      n += FIELD;
      p = r + 1;
    }
    this.seriesEnd = firstSpace;
    this.timeStart = lastSpace + 1;
    this.fieldCount = n / FIELD;
    return true;
  }

  /**
   * A µs timestamp of 4 to 16 digits without a leading zero (so dropping three digits is the division), and a safe
   * integer: beyond 2^53 the parser's time is a rounded double, which the line's other paths must agree with.
   */
  #time(text: Uint8Array, start: number, end: number): boolean {
    const digits = end - start;
    if (digits < 4 || digits > 16 || text[start] === 0x30) return false;
    let ms = 0;
    let us = 0;
    const msEnd = end - 3;
    for (let i = start; i < end; i++) {
      const d = text[i]! - 0x30;
      if (d < 0 || d > 9) return false;
      if (i < msEnd) ms = ms * 10 + d;
      us = us * 10 + d;
    }
    if (us > Number.MAX_SAFE_INTEGER) return false;
    this.timeMs = ms;
    return true;
  }
}

/**
 * AS_IS for a number (a digit or '-' first: as the router wrote it through LineBuilder, floats in JS's
 * shortest form, and the record's CRC vouches for the text since; `.5` is nobody's canonical form: the parser reads it), TRUE/FALSE for line protocol's boolean spellings, -1 for anything else.
 */
function valueKind(text: Uint8Array, start: number, end: number): number {
  const first = text[start]!;
  if ((first >= 0x30 && first <= 0x39) || first === 0x2d) return AS_IS;
  switch (end - start) {
    case 1:
      return first === 0x54 || first === 0x74 ? TRUE : first === 0x46 || first === 0x66 ? FALSE : -1;
    case 4:
      return oneOf(text, start, TRUE_WORDS) ? TRUE : -1;
    case 5:
      return oneOf(text, start, FALSE_WORDS) ? FALSE : -1;
  }
  return -1;
}

// Line protocol's spellings besides t/T/f/F.
const TRUE_WORDS = ['true', 'True', 'TRUE'];
const FALSE_WORDS = ['false', 'False', 'FALSE'];

function oneOf(text: Uint8Array, start: number, words: readonly string[]): boolean {
  for (const w of words) {
    let i = 0;
    while (i < w.length && text[start + i] === w.charCodeAt(i)) i++;
    if (i === w.length) return true;
  }
  return false;
}
