/**
 * Whether a measurement / tag key / tag value / field key can be written so that InfluxDB 1.x/2.x, and the
 * gateway's own parser, read it back unchanged. Refused (the caller counts the message as `bad_name`):
 * - a control character (U+0000–U+001F, U+007F): a newline would end the line, and none of them can be read
 *   back the same (InfluxDB stores `\n` as a backslash and an `n`); names are identifiers, not text.
 * - a backslash at the end: InfluxDB's key scanner takes the character after any backslash as escaped, so the
 *   delimiter that follows the name would be swallowed.
 * - an odd run of backslashes right before `,` `=` or space: written with its escape that is an even run, which
 *   InfluxDB's key scanner (a character after a backslash is escaped) and its line splitter and field scanner
 *   (backslash pairs are skipped) read differently. An even run (`a\\ b`) reads the same both ways.
 * - a backslash right before `"` (InfluxDB unescapes `\"` in field keys).
 * - a leading '#' (the line would be a comment) and `__proto__` (kept from the Point-based writer, where it
 *   changed an object's prototype; refusing it stays the documented behaviour).
 */
export function isWritableName(name: string): boolean {
  if (name.charCodeAt(0) === 35 /* # */ || name === '__proto__') return false;
  let run = 0; // backslashes just before i
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
    if (c === 0x5c /* \ */) {
      run++;
      continue;
    }
    if (run > 0 && (c === 0x22 || ((run & 1) === 1 && (c === 0x2c || c === 0x20 || c === 0x3d)))) return false;
    run = 0;
  }
  return run === 0;
}
