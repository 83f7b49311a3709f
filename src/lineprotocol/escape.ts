/**
 * Escaping for the line protocol the gateway writes, after InfluxDB 1.x/2.x `models/points.go` (see
 * docs/line-protocol.md for why 1.x/2.x and not 3.x):
 * - measurement: `,` and space get a backslash; tag keys, tag values and field keys: `,` `=` and space.
 *   A backslash in a name is written as it is: InfluxDB reads a backslash as an escape only before those
 *   characters, which `isWritableName` keeps a name from having.
 * - string field values: `\` → `\\`, `"` → `\"`, and a newline or carriage return as the two characters `\n`
 *   and `\r`. A raw newline is valid inside quotes for InfluxDB, but VictoriaMetrics and others split lines on it,
 *   so a device could forge a point after it; InfluxDB then stores the backslash and the letter.
 */

/** A measurement as written. */
export function escapeMeasurement(name: string): string {
  return needsEscape(name, false) ? replace(name, false) : name;
}

/** A tag key, tag value or field key as written. */
export function escapeKey(name: string): string {
  return needsEscape(name, true) ? replace(name, true) : name;
}

/** A string field value with its quotes. */
export function quoteString(value: string): string {
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let esc: string;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c === 0x0a) esc = '\\n';
    else if (c === 0x0d) esc = '\\r';
    else continue;
    out += value.slice(chunk, i) + esc;
    chunk = i + 1;
  }
  return `${out}${chunk === 0 ? value : value.slice(chunk)}"`;
}

function needsEscape(name: string, equalsToo: boolean): boolean {
  // Native scans: nearly every name has none of these.
  return name.indexOf(' ') !== -1 || name.indexOf(',') !== -1 || (equalsToo && name.indexOf('=') !== -1);
}

function replace(name: string, equalsToo: boolean): string {
  let out = '';
  let chunk = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x20 || c === 0x2c || (equalsToo && c === 0x3d)) {
      out += `${name.slice(chunk, i)}\\`;
      chunk = i;
    }
  }
  return out + name.slice(chunk);
}
