import type { Batch } from '../../spool/Batch.ts';
import { parseLine, splitLines } from '../../pipeline/lineProtocol.ts';
import { redisKeyPart } from './redisKeyPart.ts';

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
  /** Stream entries [streamKey, spool position, [name, value…]]. */
  readonly streams: readonly (readonly [string, number, readonly string[]])[];
  /** Stream entries in the call (duplicates among them are skipped by the script). */
  readonly entries: number;
  /** Points that went into the call. */
  readonly points: number;
  /** Lines that did not parse (cannot happen for lines the gateway produced; counted, not retried). */
  readonly rejected: number;
  readonly firstError: string | undefined;
}

interface LatestField {
  value: string;
  timeMs: number;
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
 */
export class RedisBatchBuilder {
  readonly #layout: RedisLayout;
  readonly #maxLen: string;

  constructor(layout: RedisLayout) {
    this.#layout = layout;
    this.#maxLen = String(layout.streamMaxLen);
  }

  build(batch: Batch): BuiltBatch {
    const layout = this.#layout;
    const latest = new Map<string, Map<string, LatestField>>();
    // [streamKey, position, [name, value, …]]: serialised as JSON for the script (see batchScript.ts).
    const streams: [string, number, string[]][] = [];
    let points = 0;
    let rejected = 0;
    let firstError: string | undefined;
    for (let c = 0; c < batch.chunks.length; c++) {
      const chunk = batch.chunks[c]!;
      const position = batch.positions[c] ?? 0;
      // A raw newline may sit inside a quoted string field: split with the line-protocol-aware splitter.
      const lines = chunk.includes('\n') ? splitLines(chunk) : [chunk];
      for (const line of lines) {
        const p = parseLine(line);
        if (typeof p === 'string') {
          rejected++;
          firstError ??= p;
          continue;
        }
        points++;
        // Line protocol from the router always carries a µs timestamp; Redis gets ms.
        const timeMs = p.timestamp === undefined ? Date.now() : Math.floor(Number(p.timestamp) / 1000);
        const measurement = redisKeyPart(p.measurement);
        if (layout.latest) {
          const device = tagValue(p.tags, layout.deviceTag);
          if (device !== undefined) {
            const key = `${layout.keyPrefix}latest:{${redisKeyPart(device)}}:${measurement}`;
            let group = latest.get(key);
            if (group === undefined) latest.set(key, (group = new Map()));
            for (const f of p.fields) {
              const held = group.get(f.name);
              if (held === undefined || held.timeMs <= timeMs) group.set(f.name, { value: redisValue(f.value), timeMs });
            }
          }
        }
        if (layout.streams) {
          const pairs: string[] = ['ts', String(timeMs)];
          for (const [k, v] of p.tags) pairs.push(k, v);
          for (const f of p.fields) pairs.push(f.name, redisValue(f.value));
          streams.push([`${layout.keyPrefix}stream:{${measurement}}`, position, pairs]);
        }
      }
    }
    const groups: [string, string, string[]][] = [];
    for (const [key, fields] of latest) {
      const flat: string[] = [];
      for (const [name, f] of fields) flat.push(name, f.value, String(f.timeMs));
      groups.push([key, `${key}:ts`, flat]);
    }
    const argv = [this.#maxLen, batch.origin, JSON.stringify(groups), JSON.stringify(streams)];
    return { argv, entries: streams.length, points, rejected, firstError, latest: groups, streams };
  }
}

function tagValue(tags: ReadonlyArray<readonly [string, string]>, key: string): string | undefined {
  for (const [k, v] of tags) if (k === key) return v;
  return undefined;
}

function redisValue(value: number | boolean | string): string {
  return typeof value === 'string' ? value : String(value);
}
