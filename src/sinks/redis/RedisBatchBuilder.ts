import { isAscii } from 'node:buffer';
import type { Batch } from '../../spool/Batch.ts';
import { parseLine } from '../../lineprotocol/parseLine.ts';
import { splitLines } from '../../lineprotocol/splitLines.ts';
import { seriesKeyEnd } from '../../lineprotocol/seriesKeyEnd.ts';
import { ByteWriter } from './ByteWriter.ts';
import { LatestValues } from './LatestValues.ts';
import { RedisSeriesCache, type RedisSeries } from './RedisSeriesCache.ts';
import { FIELD, SimpleLine, TRUE } from '../../lineprotocol/SimpleLine.ts';
import { MAX_ENTRY_PAIRS } from './batchScript.ts';
import { FIELD_MARKER, needsMarker, streamFieldName } from './streamFieldName.ts';

export interface RedisLayout {
  readonly keyPrefix: string;
  readonly deviceTag: string;
  readonly latest: boolean;
  readonly streams: boolean;
  readonly streamMaxLen: number;
}

export interface BuiltBatch {
  /** ARGV of `BATCH_SCRIPT`: stream MAXLEN, spool origin, latest values JSON, stream entries JSON (UTF-8 bytes). */
  readonly argv: readonly [string, string, Buffer, Buffer];
  /** Two keys per latest group (values hash, times hash), in order, and where each group's JSON ends in ARGV 3. */
  readonly latestKeys: readonly string[];
  readonly latestEnds: readonly number[];
  /** The stream key of each stream entry, in order, and where each entry's JSON ends in ARGV 4 (cluster slots). */
  readonly streamKeys: readonly string[];
  readonly streamEnds: readonly number[];
  /** Stream entries in the call (duplicates among them are skipped by the script). */
  readonly entries: number;
  /** Points that went into the call. */
  readonly points: number;
  /**
   * Points refused before the call (counted, not retried): lines that do not parse (cannot happen for lines the
   * gateway produced), and points that cannot be one stream entry (too many fields for one XADD, a reserved tag key).
   */
  readonly rejected: number;
  /** Why the first of them was refused. */
  readonly firstError: string | undefined;
}

/** What one `build` gathers. */
interface Building {
  readonly text: Buffer;
  readonly latest: LatestValues | undefined;
  readonly streams: ByteWriter | undefined;
  readonly streamKeys: string[];
  readonly streamEnds: number[];
  /** Each stream entry's time (ms), and whether one is older than the entry before it (then they are sorted). */
  readonly streamTimes: number[];
  unordered: boolean;
  points: number;
  rejected: number;
  firstError: string | undefined;
}

const TS_OPEN = Buffer.from(',["ts","');
const TRUE_BYTES = Buffer.from('true');
const FALSE_BYTES = Buffer.from('false');
const EMPTY_LIST: Buffer = Buffer.from('[]');

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
 * Hot path: the lines are the gateway's own (written by the router), read back from the spool as bytes. A line of
 * the simple kind (numbers and booleans, no quotes or escapes: nearly every line) is read byte by byte
 * (`SimpleLine`) and its names and values are copied into the JSON as bytes; only its series key becomes a string,
 * to find the series' keys and tags in `RedisSeriesCache`. Anything else goes through the full parser.
 */
export class RedisBatchBuilder {
  readonly #layout: RedisLayout;
  readonly #maxLen: string;
  readonly #series: RedisSeriesCache;
  readonly #line = new SimpleLine();

  constructor(layout: RedisLayout) {
    this.#layout = layout;
    this.#maxLen = String(layout.streamMaxLen);
    this.#series = new RedisSeriesCache(layout);
  }

  build(batch: Batch): BuiltBatch {
    const { text, ends, positions } = batch;
    const b: Building = {
      text,
      latest: this.#layout.latest ? new LatestValues(text) : undefined,
      // A stream entry is about as long as its line plus its key and tags.
      streams: this.#layout.streams ? new ByteWriter(2 * text.length + 64) : undefined,
      streamKeys: [],
      streamEnds: [],
      streamTimes: [],
      unordered: false,
      points: 0,
      rejected: 0,
      firstError: undefined,
    };
    b.streams?.byte(0x5b /* [ */);
    // Series keys are read from one decode of the whole batch (nearly always ASCII: latin1 is then a plain copy).
    const all = isAscii(text) ? text.toString('latin1') : undefined;
    for (let c = 0; c < ends.length; c++) {
      const start = c === 0 ? 0 : ends[c - 1]! + 1;
      const position = positions[c] ?? 0;
      if (this.#simple(b, all, start, ends[c]!, position)) continue;
      // Several lines, or an unusual one: strings and the full parser (a raw newline may sit inside a quoted string).
      const chunk = all !== undefined ? all.slice(start, ends[c]) : text.toString('utf8', start, ends[c]);
      for (const line of splitLines(chunk)) this.#parsed(b, line, position);
    }
    b.streams?.byte(0x5d /* ] */);
    let latestJson: Buffer = EMPTY_LIST;
    let latestKeys: string[] = [];
    let latestEnds: number[] = [];
    if (b.latest !== undefined && b.latest.size > 0) {
      const w = new ByteWriter(b.latest.size * 160);
      ({ keys: latestKeys, ends: latestEnds } = b.latest.write(w));
      latestJson = w.bytes();
    }
    const { points, rejected, firstError } = b;
    let { streamKeys, streamEnds } = b;
    let streamJson = b.streams !== undefined && streamEnds.length > 0 ? b.streams.bytes() : EMPTY_LIST;
    if (b.unordered && streamEnds.length > 1) ({ json: streamJson, keys: streamKeys, ends: streamEnds } = byTime(streamJson, b));
    return {
      argv: [this.#maxLen, batch.origin, latestJson, streamJson],
      latestKeys,
      latestEnds,
      streamKeys,
      streamEnds,
      entries: streamEnds.length,
      points,
      rejected,
      firstError,
    };
  }

  /** The fast path: one simple line at `text[start, end)`; false (nothing written) when it is not one. */
  #simple(b: Building, all: string | undefined, start: number, end: number, position: number): boolean {
    const line = this.#line;
    const text = b.text;
    if (!line.scan(text, start, end)) return false;
    const series = this.#series.get(all !== undefined ? all.slice(start, line.seriesEnd) : text.toString('utf8', start, line.seriesEnd));
    if (series === null) return false;
    if (this.#refused(b, series, line.fieldCount)) return true;
    b.points++;
    const fields = line.fields;
    const n = line.fieldCount * FIELD;
    const latest = b.latest;
    if (latest !== undefined && series.latestKey !== undefined) {
      const g = latest.group(series.latestKey, series.timesKey!, series.latestHeadBytes);
      for (let f = 0, i = 0; f < n; f += FIELD, i++) {
        latest.fromText(g, i, fields[f]!, fields[f + 1]!, fields[f + 2]!, fields[f + 3]!, fields[f + 4]!, line.timeMs);
      }
    }
    const w = b.streams;
    if (w === undefined) return true;
    this.#entryHead(b, w, series, position, line.timeMs);
    w.copy(text, line.timeStart, end - 3); // µs → ms: the same digits but the last three
    w.byte(0x22);
    w.piece(series.tagsJsonBytes);
    const mask = series.reservedMask;
    for (let f = 0; f < n; f += FIELD) {
      w.byte2(0x2c, 0x22); // ,"
      // Most names are passed on their length alone (a bit per reserved length; the marker is 6 long).
      const nameLength = fields[f + 1]! - fields[f]!;
      if (
        (nameLength >= 6 || (mask & (1 << nameLength)) !== 0) &&
        needsMarker(text, fields[f]!, fields[f + 1]!, series.reservedNames, mask)
      ) {
        w.ascii(FIELD_MARKER);
      }
      w.copy(text, fields[f]!, fields[f + 1]!);
      w.byte2(0x22, 0x2c); // ",
      const kind = fields[f + 4]!;
      if (kind === 0) {
        w.byte(0x22);
        w.copy(text, fields[f + 2]!, fields[f + 3]!);
        w.byte(0x22);
      } else {
        w.byte(0x22);
        w.piece(kind === TRUE ? TRUE_BYTES : FALSE_BYTES);
        w.byte(0x22);
      }
    }
    this.#entryEnd(b, w, series);
    return true;
  }

  /** The slow path: one line through the full parser, which also reports what is wrong with it. */
  #parsed(b: Building, line: string, position: number): void {
    const parsed = parseLine(line);
    if (!parsed.ok) {
      b.rejected++;
      b.firstError ??= `unparsable line: ${parsed.error}`;
      return;
    }
    const p = parsed.line;
    // A line that parses has a series key that does too, once past the leading whitespace the parser skips
    // (spaces, tabs and NULs, as InfluxDB's skipWhitespace).
    let from = 0;
    for (let c = line.charCodeAt(0); c === 0x20 || c === 0x09 || c === 0x00; c = line.charCodeAt(++from));
    const key = from === 0 ? line : line.slice(from);
    const series = this.#series.get(key.slice(0, seriesKeyEnd(key)))!;
    if (this.#refused(b, series, p.fields.length)) return;
    // Line protocol from the router always carries a µs timestamp; Redis gets ms.
    const timeMs = p.timestamp === undefined ? Date.now() : Math.floor(Number(p.timestamp) / 1000);
    b.points++;
    const latest = b.latest;
    if (latest !== undefined && series.latestKey !== undefined) {
      const g = latest.group(series.latestKey, series.timesKey!, series.latestHeadBytes);
      for (const f of p.fields) latest.fromStrings(g, f.name, redisValue(f.value), timeMs);
    }
    const w = b.streams;
    if (w === undefined) return;
    this.#entryHead(b, w, series, position, timeMs);
    w.ascii(String(timeMs));
    w.byte(0x22);
    w.piece(series.tagsJsonBytes);
    for (const f of p.fields) w.utf8(`,${JSON.stringify(streamFieldName(f.name, series.tagKeys))},${JSON.stringify(redisValue(f.value))}`);
    this.#entryEnd(b, w, series);
  }

  /**
   * A point that cannot be one stream entry is refused whole (counted), before anything of it is written: its
   * latest values alone would be a point half written. Only with streams on.
   */
  #refused(b: Building, series: RedisSeries, fieldCount: number): boolean {
    if (b.streams === undefined) return false;
    let why = series.streamRefusal;
    const pairs = 1 + series.tagKeys.length + fieldCount;
    if (why === undefined && pairs > MAX_ENTRY_PAIRS) {
      why = `point of ${fieldCount} fields: more than one Redis stream entry takes (${MAX_ENTRY_PAIRS} names with ts and tags)`;
    }
    if (why === undefined) return false;
    b.rejected++;
    b.firstError ??= why;
    return true;
  }

  /** `["<streamKey>",<position>,["ts","` */
  #entryHead(b: Building, w: ByteWriter, series: RedisSeries, position: number, timeMs: number): void {
    const times = b.streamTimes;
    if (times.length > 0 && timeMs < times[times.length - 1]!) b.unordered = true;
    times.push(timeMs);
    if (b.streamEnds.length > 0) w.byte(0x2c);
    w.piece(series.streamHeadBytes);
    w.ascii(String(position));
    w.piece(TS_OPEN);
  }

  #entryEnd(b: Building, w: ByteWriter, series: RedisSeries): void {
    w.byte2(0x5d, 0x5d);
    b.streamKeys.push(series.streamKey);
    b.streamEnds.push(w.length);
  }
}

/**
 * The stream entries of a batch in time order (stable: entries of one time keep the spool's order), when some
 * entry is older than one before it. Why: with several MQTT connections (mqtt.connections) the broker hands a
 * device's consecutive messages to different connections, and the gateway can spool them in either order; a
 * device's stream entries must still read in time order. Within a batch that is exact; two such messages split
 * by a batch boundary are not reordered (docs/durability.md). The script does not need positions in order.
 */
function byTime(json: Buffer, b: Building): { json: Buffer; keys: string[]; ends: number[] } {
  const { streamEnds: ends, streamKeys: keys, streamTimes: times } = b;
  const order = Array.from(ends, (_, i) => i).sort((x, y) => times[x]! - times[y]! || x - y);
  const out = Buffer.allocUnsafe(json.length);
  out[0] = 0x5b; // [
  let at = 1;
  const sortedKeys: string[] = [];
  const sortedEnds: number[] = [];
  for (const i of order) {
    if (sortedEnds.length > 0) out[at++] = 0x2c; // ,
    at += json.copy(out, at, i === 0 ? 1 : ends[i - 1]! + 1, ends[i]!);
    sortedKeys.push(keys[i]!);
    sortedEnds.push(at);
  }
  out[at++] = 0x5d; // ]
  return { json: out.subarray(0, at), keys: sortedKeys, ends: sortedEnds };
}

/** The latest groups of a built batch as arrays `[valuesKey, timesKey, [field, value, timeMs…]]` (dry runs, tests). */
export function latestOf(built: Pick<BuiltBatch, 'argv'>): [string, string, string[]][] {
  return JSON.parse(built.argv[2].toString('utf8')) as [string, string, string[]][];
}

/** The stream entries of a built batch as arrays `[streamKey, position, [name, value…]]` (dry runs, tests). */
export function streamsOf(built: Pick<BuiltBatch, 'argv'>): [string, number, string[]][] {
  return JSON.parse(built.argv[3].toString('utf8')) as [string, number, string[]][];
}

function redisValue(value: number | boolean | string): string {
  return typeof value === 'string' ? value : String(value);
}
