import { seriesKeyEnd } from './seriesKeyEnd.ts';

/** One field of a line as written: key and value exactly as they appear (still escaped, string values quoted). */
export interface RawField {
  readonly key: string;
  readonly value: string;
}

/** A line cut into its parts without unescaping: `series fields timestamp`. */
export interface RawPoint {
  /** Measurement and tags, escaped, as in the line. */
  readonly series: string;
  readonly fields: RawField[];
  /** The timestamp text; '' when the line has none. */
  readonly timestamp: string;
}

/**
 * Cuts a line the gateway wrote (or `parseLine` accepted) into series, fields and timestamp, keeping every part's
 * text as is, so a subset of the fields can be written back unchanged: `series k=v,k2=v2 ts`. It checks nothing:
 * undefined only when there is no field at all. Backslashes escape the next character everywhere; a string value
 * runs from `"` to the next unescaped `"`.
 */
export function splitPoint(line: string): RawPoint | undefined {
  const end = seriesKeyEnd(line);
  if (end === -1) return undefined;
  const series = line.slice(0, end);
  const len = line.length;
  const fields: RawField[] = [];
  let i = end + 1;
  while (i < len) {
    const keyStart = i;
    while (i < len && line.charCodeAt(i) !== 61 /* = */) i += line.charCodeAt(i) === 92 /* \ */ ? 2 : 1;
    if (i >= len) return undefined;
    const key = line.slice(keyStart, i);
    i++;
    const valueStart = i;
    if (line.charCodeAt(i) === 34 /* " */) {
      i++;
      while (i < len && line.charCodeAt(i) !== 34) i += line.charCodeAt(i) === 92 ? 2 : 1;
      i++; // the closing quote
    } else {
      while (i < len) {
        const c = line.charCodeAt(i);
        if (c === 44 /* , */ || c === 32 /* space */) break;
        i++;
      }
    }
    fields.push({ key, value: line.slice(valueStart, Math.min(i, len)) });
    if (i < len && line.charCodeAt(i) === 44) {
      i++;
      continue;
    }
    break;
  }
  if (fields.length === 0) return undefined;
  while (i < len && line.charCodeAt(i) === 32) i++;
  let stop = len;
  while (stop > i && line.charCodeAt(stop - 1) === 32) stop--;
  return { series, fields, timestamp: line.slice(i, stop) };
}
