import { isAscii } from 'node:buffer';
import type { Batch } from '../../spool/Batch.ts';
import { parseLine, splitLines } from '../../pipeline/lineProtocol.ts';
import { seriesKeyEnd } from '../../pipeline/seriesKeyEnd.ts';
import { RedisSeriesCache, type RedisSeries } from './RedisSeriesCache.ts';

export interface RedisLayout {
  readonly keyPrefix: string;
  readonly deviceTag: string;
  readonly latest: boolean;
  readonly streams: boolean;
  readonly streamMaxLen: number;
}

export interface BuiltBatch {
  readonly argv: string[];
  /** What the call writes, for people (dry runs): latest groups [valuesKey, timesKey, [field, value, timeMs…]]. */
  readonly latest: readonly (readonly [string, string, readonly string[]])[];
  /** The stream key of each stream entry, in order (slot grouping in cluster mode). */
  readonly streamKeys: readonly string[];
  /**
   * Each stream entry as the JSON the script decodes, `[streamKey, spool position, [name, value…]]`, written as
   * text directly (no array per entry, no JSON.stringify of the batch); `streamsOf` parses them for people.
   */
  readonly streamEntries: readonly string[];
  /** Stream entries in the call (duplicates among them are skipped by the script). */
  readonly entries: number;
  /** Points that went into the call. */
  readonly points: number;
  /** Lines that did not parse (cannot happen for lines the gateway produced; counted, not retried). */
  readonly rejected: number;
  readonly firstError: string | undefined;
}

/** The newest value of each field of one latest-value hash within a batch (parallel arrays: no object per field). */
interface LatestGroup {
  readonly timesKey: string;
  readonly names: string[];
  readonly values: string[];
  readonly times: number[];
}

/** What one `build` gathers. */
interface Building {
  readonly latest: Map<string, LatestGroup>;
  readonly streamKeys: string[];
  readonly streamEntries: string[];
  /** Fields of the current line, reused: [name, value, name, value…]. */
  readonly fields: string[];
  points: number;
  rejected: number;
  firstError: string | undefined;
}

/**
 * Turns a batch of line protocol into the ARGV of `BATCH_SCRIPT`: latest values coalesced within the batch (only
 * the newest value per device, measurement and field is sent), one stream entry per point.
 *
 * Key layout (prefix `eb:` by default; names encoded by `redisKeyPart`):
 * - `eb:latest:{<device>}:<measurement>`     hash field → latest value
 * - `eb:latest:{<device>}:<measurement>:ts`  hash field → its time, epoch ms
 * - `eb:stream:{<measurement>}`              stream; entry = ts (epoch ms), the tags, then the fields
 * - `eb:stream:{<measurement>}:applied`      hash spool origin → highest spool position appended (de-duplication)
 *
 * Hot path: the lines are the gateway's own (written by the router), read back from the spool. The series key
 * (measurement and tags) is resolved through `RedisSeriesCache`; a field section without quotes or backslashes
 * (numbers and booleans: nearly every line) is split directly; anything else goes through the full parser.
 */
export class RedisBatchBuilder {
  readonly #layout: RedisLayout;
  readonly #maxLen: string;
  readonly #series: RedisSeriesCache;
  readonly #jsonNames = new Map<string, string>();

  constructor(layout: RedisLayout) {
    this.#layout = layout;
    this.#maxLen = String(layout.streamMaxLen);
    this.#series = new RedisSeriesCache(layout);
  }

  build(batch: Batch): BuiltBatch {
    const b: Building = { latest: new Map(), streamKeys: [], streamEntries: [], fields: [], points: 0, rejected: 0, firstError: undefined };
    const { text, ends, positions } = batch;
    // One decode for the whole batch (nearly always ASCII: latin1 is then a plain copy); entries are slices of it.
    const all = isAscii(text) ? text.toString('latin1') : undefined;
    for (let c = 0; c < ends.length; c++) {
      const start = c === 0 ? 0 : ends[c - 1]! + 1;
      const chunk = all !== undefined ? all.slice(start, ends[c]) : text.toString('utf8', start, ends[c]);
      const position = positions[c] ?? 0;
      // A raw newline may sit inside a quoted string field: split with the line-protocol-aware splitter.
      if (chunk.includes('\n')) for (const line of splitLines(chunk)) this.#line(b, line, position);
      else this.#line(b, chunk, position);
    }
    const groups: [string, string, string[]][] = [];
    for (const [key, g] of b.latest) {
      const flat: string[] = [];
      for (let i = 0; i < g.names.length; i++) flat.push(g.names[i]!, g.values[i]!, String(g.times[i]));
      groups.push([key, g.timesKey, flat]);
    }
    const { streamEntries, streamKeys, points, rejected, firstError } = b;
    const argv = [this.#maxLen, batch.origin, JSON.stringify(groups), `[${streamEntries.join(',')}]`];
    return { argv, entries: streamEntries.length, points, rejected, firstError, latest: groups, streamKeys, streamEntries };
  }

  /** One line of line protocol into the batch being built. */
  #line(b: Building, line: string, position: number): void {
    const fields = b.fields;
    fields.length = 0;
    let series: RedisSeries | null = null;
    let timeMs = 0;
    let simple = true;
    const end = seriesKeyEnd(line);
    if (end > 0) series = this.#series.get(line.slice(0, end));
    if (series === null || (timeMs = splitSimpleFields(line, end + 1, fields)) < 0) {
      // Quotes, escapes or anything unusual: the full parser decides (and reports what is wrong).
      simple = false;
      const p = parseLine(line);
      if (typeof p === 'string') {
        b.rejected++;
        b.firstError ??= p;
        return;
      }
      // A line that parses has a series key that does too.
      series = this.#series.get(line.slice(0, end))!;
      fields.length = 0;
      for (const f of p.fields) fields.push(f.name, redisValue(f.value));
      // Line protocol from the router always carries a µs timestamp; Redis gets ms.
      timeMs = p.timestamp === undefined ? Date.now() : Math.floor(Number(p.timestamp) / 1000);
    }
    b.points++;
    if (this.#layout.latest && series.latestKey !== undefined) {
      let group = b.latest.get(series.latestKey);
      if (group === undefined) b.latest.set(series.latestKey, (group = { timesKey: series.timesKey!, names: [], values: [], times: [] }));
      for (let f = 0; f < fields.length; f += 2) {
        const i = group.names.indexOf(fields[f]!);
        if (i === -1) {
          group.names.push(fields[f]!);
          group.values.push(fields[f + 1]!);
          group.times.push(timeMs);
        } else if (group.times[i]! <= timeMs) {
          group.values[i] = fields[f + 1]!;
          group.times[i] = timeMs;
        }
      }
    }
    if (this.#layout.streams) {
      // Fast-path values (numbers, true/false) need no JSON escaping; anything else is stringified.
      let entry = `${series.streamHead}${position},["ts","${timeMs}"${series.tagsJson}`;
      for (let f = 0; f < fields.length; f += 2) {
        entry += `,${this.#jsonName(fields[f]!)},${simple ? `"${fields[f + 1]!}"` : JSON.stringify(fields[f + 1]!)}`;
      }
      b.streamKeys.push(series.streamKey);
      b.streamEntries.push(`${entry}]]`);
    }
  }

  /** A field name as a JSON string: the same few names come with every point, so each is escaped once. */
  #jsonName(name: string): string {
    let json = this.#jsonNames.get(name);
    if (json === undefined) {
      if (this.#jsonNames.size >= 10_000) this.#jsonNames.clear();
      json = JSON.stringify(name);
      this.#jsonNames.set(name, json);
    }
    return json;
  }
}

/** The stream entries of a built batch as arrays `[streamKey, position, [name, value…]]` (dry runs, tests). */
export function streamsOf(built: Pick<BuiltBatch, 'streamEntries'>): [string, number, string[]][] {
  return built.streamEntries.map((e) => JSON.parse(e) as [string, number, string[]]);
}

/**
 * Splits `name=value,name=value… timestamp` starting at `from` into `out` (values as Redis stores them) and
 * returns the timestamp in ms; -1 when the section needs the full parser: quotes or backslashes (string fields,
 * escaped names), a value that is not a plain number or boolean, or no timestamp.
 */
function splitSimpleFields(line: string, from: number, out: string[]): number {
  const space = line.lastIndexOf(' ');
  if (space <= from || line.indexOf('"', from) !== -1 || line.indexOf('\\', from) !== -1) return -1;
  let start = from;
  while (start < space) {
    let comma = line.indexOf(',', start);
    if (comma === -1 || comma > space) comma = space;
    const eq = line.indexOf('=', start);
    if (eq === -1 || eq >= comma || eq === start || eq === comma - 1) return -1;
    const value = simpleValue(line.slice(eq + 1, comma));
    if (value === undefined) return -1;
    out.push(line.slice(start, eq), value);
    start = comma + 1;
  }
  const us = Number(line.slice(space + 1));
  return Number.isSafeInteger(us) ? Math.floor(us / 1000) : -1;
}

/** A float, integer (`12i`), unsigned (`12u`) or boolean as Redis stores it; undefined for anything else. */
function simpleValue(raw: string): string | undefined {
  const first = raw.charCodeAt(0);
  // Digits, '-' or '.': a number as the router wrote it (floats in JS's own shortest form, so the text is the
  // value; the router and Point write finite floats only, and the record's CRC vouches for the text since).
  if ((first >= 48 && first <= 57) || first === 45 || first === 46) {
    const last = raw.charCodeAt(raw.length - 1);
    if (last === 105 /* i */ || last === 117 /* u */) return raw.slice(0, -1);
    return raw;
  }
  switch (raw) {
    case 'T': case 't': case 'true': case 'True': case 'TRUE':
      return 'true';
    case 'F': case 'f': case 'false': case 'False': case 'FALSE':
      return 'false';
  }
  return undefined;
}

function redisValue(value: number | boolean | string): string {
  return typeof value === 'string' ? value : String(value);
}
