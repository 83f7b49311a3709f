import type { TimeUnit } from '../route/Route.ts';

/*
 * `auto` picks the unit by magnitude. Each threshold is 1e11 of the smaller unit, i.e. the year 5138 in that
 * unit and 1973 in the next finer one, so any timestamp between 1973 and 5138 is read correctly:
 *   value < 1e11 → seconds, < 1e14 → milliseconds, < 1e17 → microseconds, else nanoseconds.
 * ISO 8601 strings (unit `auto` or `iso`): `YYYY-MM-DD`, optionally `THH:MM[:SS][.fraction]` and a zone
 * (`Z`, `±HH`, `±HHMM`, `±HH:MM`). Without a zone the time is taken as UTC (JavaScript would use the
 * gateway's local zone, which depends on the host; devices such as Tasmota send zone-less local time,
 * so set their clock to UTC or accept the offset). Fraction digits beyond milliseconds are kept down to µs.
 * Numbers given with unit `iso` are read as `auto`.
 */

const NUMERIC = /^\s*(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const DIGITS = /^\d+$/;
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Epoch microseconds (an integer) for a timestamp value, or undefined when it is not a valid time. */
export function parseTime(value: unknown, unit: TimeUnit): number | undefined {
  if (typeof value === 'number') return fromNumber(value, unit);
  if (typeof value !== 'string') return undefined;
  if (NUMERIC.test(value)) {
    const n = Number(value);
    const resolved = unit === 'auto' || unit === 'iso' ? unitOf(n) : unit;
    // Nanosecond integer strings (line protocol timestamps) exceed double precision: cut the digits instead.
    if (resolved === 'ns') {
      const t = value.trim();
      if (DIGITS.test(t)) return nsDigitsToUs(t);
    }
    return fromNumber(n, resolved);
  }
  if (unit === 'auto' || unit === 'iso') return fromIso(value.trim());
  return undefined;
}

function unitOf(n: number): 's' | 'ms' | 'us' | 'ns' {
  return n < 1e11 ? 's' : n < 1e14 ? 'ms' : n < 1e17 ? 'us' : 'ns';
}

function fromNumber(n: number, unit: TimeUnit): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  const resolved = unit === 'auto' || unit === 'iso' ? unitOf(n) : unit;
  // Round, not floor: 1700000000.12 * 1e6 is 1700000000119999.8 in binary floating point.
  const us =
    resolved === 's'
      ? Math.round(n * 1e6)
      : resolved === 'ms'
        ? Math.round(n * 1e3)
        : resolved === 'us'
          ? Math.round(n)
          : Math.round(n / 1e3);
  return us <= Number.MAX_SAFE_INTEGER ? us : undefined;
}

function nsDigitsToUs(t: string): number | undefined {
  if (t.length <= 3) return Math.round(Number(t) / 1e3);
  // Half-up rounding on the first dropped digit (53 = '5'), matching fromNumber.
  const us = Number(t.slice(0, -3)) + (t.charCodeAt(t.length - 3) >= 53 ? 1 : 0);
  return us <= Number.MAX_SAFE_INTEGER ? us : undefined;
}

function fromIso(s: string): number | undefined {
  const m = ISO.exec(s);
  if (m === null) return undefined;
  let time = m[2] ?? '00:00:00';
  if (time.length === 5) time += ':00';
  let zone = m[4] ?? 'Z';
  // Date.parse only understands ±HH:MM.
  if (zone.length === 3) zone += ':00';
  else if (zone.length === 5) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${m[1]}T${time}${zone}`);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const fraction = m[3];
  // Fraction → µs: pad or cut to 6 digits (sub-µs digits are truncated).
  const us = ms * 1000 + (fraction === undefined ? 0 : Number((fraction + '00000').slice(0, 6)));
  // Same bound as numbers: beyond 2^53 µs (year 2255) the nanosecond timestamp InfluxDB gets would overflow int64.
  return us <= Number.MAX_SAFE_INTEGER ? us : undefined;
}
