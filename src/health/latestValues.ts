import { parseLine } from '../lineprotocol/parseLine.ts';
import { splitLines } from '../lineprotocol/splitLines.ts';
import type { Entry } from '../spool/Entry.ts';

/** Series shown at most (the status page's table), and lines read at most to find them. */
export const LATEST_SERIES = 20;
const MAX_LINES = 1000;

export interface LatestValue {
  /** `measurement,tag=value,…` as in line protocol, tags sorted (escaping left out: for people, not parsers). */
  readonly series: string;
  readonly fields: Readonly<Record<string, number | string | boolean>>;
  /** The point's time, ISO 8601 (ms). */
  readonly time: string | null;
}

/**
 * The latest fields of up to LATEST_SERIES series among the given entries (oldest first): read only when `/status`
 * is asked, so the cost is one parse of at most MAX_LINES lines per request, none per message.
 */
export function latestValues(entries: readonly Entry[], limit = LATEST_SERIES): LatestValue[] {
  const bySeries = new Map<string, LatestValue>();
  let lines = 0;
  // Newest first: the first time a series is seen is its latest value.
  for (let i = entries.length - 1; i >= 0 && lines < MAX_LINES; i--) {
    const points = splitLines(entries[i]!.lines);
    for (let p = points.length - 1; p >= 0 && lines < MAX_LINES; p--, lines++) {
      const parsed = parseLine(points[p]!);
      if (!parsed.ok) continue;
      const { measurement, tags, fields, timestamp } = parsed.line;
      const series = [measurement, ...[...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`)].join(',');
      if (bySeries.has(series)) continue;
      if (bySeries.size === limit) continue;
      const values: Record<string, number | string | boolean> = {};
      for (const f of fields) values[f.name] = f.kind === 'int' || f.kind === 'uint' ? Number(f.value) : f.value;
      // The gateway writes µs timestamps.
      const time = timestamp === undefined ? null : new Date(Number(BigInt(timestamp) / 1000n)).toISOString();
      bySeries.set(series, { series, fields: values, time });
    }
  }
  return [...bySeries.values()].sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));
}
