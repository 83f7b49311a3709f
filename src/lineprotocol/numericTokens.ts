/**
 * The numeric tokens of line-protocol field values, checked by hand (a regex test costs more than the parse):
 * int64 `12i`, uint64 `12u` (digits as written, leading zeros allowed) and floats without NaN, Inf, hex, `+`, `_`.
 */

const INT_MAX = '9223372036854775807';
const INT_MIN = '9223372036854775808';
const UINT_MAX = '18446744073709551615';

/** `-?\d+` within int64 (the digits of an `i` field, suffix removed). */
export function isInt64Digits(digits: string): boolean {
  return isInteger(digits, true) && inRange(digits, digits.charCodeAt(0) === 45 ? INT_MIN : INT_MAX);
}

/** `\d+` within uint64 (the digits of a `u` field, suffix removed). */
export function isUint64Digits(digits: string): boolean {
  return isInteger(digits, false) && inRange(digits, UINT_MAX);
}

/** Whether the decimal digits (optionally '-'-prefixed) are at most `max` in magnitude; leading zeros allowed. */
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
export function isFloatToken(s: string): boolean {
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
