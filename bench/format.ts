/** How the bench prints figures: thousands separators, MB of 2^20 bytes, padded table rows. */
import { round } from '../test/harness/index.ts';

export const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? round(v, digits).toLocaleString('en-US') : 'n/a');
export const mb = (bytes: number): string => `${fmt(bytes / 1048576, 1)} MB`;
/** The first cell left-aligned, the others right-aligned, to the given widths. */
export const row = (cells: string[], widths: number[]): string =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
export const memText = (m: { rss: number; anon: number; file: number }): string => `${mb(m.rss)} (${mb(m.anon)} + ${mb(m.file)})`;
/** The text of problems at the end of a report. */
export const correctness = (problems: readonly string[]): string =>
  problems.length === 0 ? 'correctness: everything published landed in both sinks' : `PROBLEMS:\n  ${problems.join('\n  ')}`;
