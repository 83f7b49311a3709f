/**
 * Whether `Point` can write this measurement / tag key / tag value / field key so that it reads back unchanged.
 * Point escapes `,` `=` space and \n \r \t with a backslash but leaves backslashes alone, so an odd run of
 * backslashes right before such a character (or at the end, where a delimiter follows) would escape
 * the delimiter instead: `a\` + `,` reads as `a,`. InfluxDB would mis-split the line; we refuse the name instead.
 * A name starting with '#' would turn the line into a comment.
 * `__proto__` cannot be a key of Point's plain `fields`/`tags` objects: the assignment changes the prototype
 * instead, so the field or tag would vanish (a point left without fields wrote `undefined` into the spool).
 */
export function isSafeName(name: string): boolean {
  if (name.charCodeAt(0) === 35 /* # */ || name === '__proto__') return false;
  // Fast path: names almost never contain a backslash; indexOf is a native scan.
  let i = name.indexOf('\\');
  while (i !== -1) {
    let j = i + 1;
    while (j < name.length && name.charCodeAt(j) === 92) j++;
    if (((j - i) & 1) === 1) {
      if (j === name.length) return false;
      const c = name.charCodeAt(j);
      // , space = \n \r \t
      if (c === 44 || c === 32 || c === 61 || c === 10 || c === 13 || c === 9) return false;
    }
    i = name.indexOf('\\', j);
  }
  return true;
}
