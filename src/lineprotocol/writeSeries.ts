import { escapeKey, escapeMeasurement } from './escape.ts';

/**
 * The series key of a line (measurement and tags, escaped) as the gateway writes it: tags sorted by key in UTF-16
 * order (InfluxDB's own order), tags with an empty value left out (InfluxDB has no empty tags). Keys must be
 * unique and every name must have passed `isWritableName`; the caller merges and checks.
 */
export function writeSeries(measurement: string, tags: ReadonlyArray<readonly [string, string]>): string {
  let out = escapeMeasurement(measurement);
  const sorted = tags.length < 2 ? tags : [...tags].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const [k, v] = sorted[i]!;
    if (v !== '') out += `,${escapeKey(k)}=${escapeKey(v)}`;
  }
  return out;
}
