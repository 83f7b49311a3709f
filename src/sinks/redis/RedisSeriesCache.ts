import { parseLine } from '../../lineprotocol/parseLine.ts';
import { redisKeyPart } from './redisKeyPart.ts';
import type { RedisLayout } from './RedisBatchBuilder.ts';
import { lengthMask, reservedNames, tagKeysRefusal } from './streamFieldName.ts';

/** What the Redis sink derives from a line's series key (measurement and tags): the same for every point of it. */
export interface RedisSeries {
  /** `<prefix>latest:{<device>}:<measurement>`; undefined when the line has no device tag. */
  readonly latestKey: string | undefined;
  /** `latestKey:ts`. */
  readonly timesKey: string | undefined;
  /** `<prefix>stream:{<measurement>}`. */
  readonly streamKey: string;
  /** `["<streamKey>",` : the start of each stream entry's JSON, as UTF-8 bytes. */
  readonly streamHeadBytes: Buffer;
  /** The tags (unescaped, line order) as JSON list items, each preceded by a comma: `,"device","dev1",…`. */
  readonly tagsJsonBytes: Buffer;
  /** `["<latestKey>","<timesKey>",[` : the start of the latest group's JSON (empty without a latest key). */
  readonly latestHeadBytes: Buffer;
  /** The tag keys, unescaped, in line order. */
  readonly tagKeys: readonly string[];
  /** `ts` and the tag keys as UTF-8: the field names that get the marker in a stream entry (`streamFieldName`). */
  readonly reservedNames: readonly Buffer[];
  /** `lengthMask(reservedNames)`. */
  readonly reservedMask: number;
  /** Why this series' points cannot be stream entries (a reserved tag key); undefined nearly always. */
  readonly streamRefusal: string | undefined;
}

/** A gateway sees a few thousand series at most; beyond this the cache starts over rather than grow. */
const MAX_SERIES = 10_000;

/**
 * Series key (the text of a line before its first unescaped space) → its Redis keys and tags. A device sends the
 * same series key with every message, so the keys are built and the names unescaped and encoded once per series,
 * not once per point.
 */
export class RedisSeriesCache {
  readonly #layout: RedisLayout;
  readonly #cache = new Map<string, RedisSeries | null>();

  constructor(layout: RedisLayout) {
    this.#layout = layout;
  }

  /** null when the series key does not parse (the caller falls back to the full parser and its error). */
  get(seriesKey: string): RedisSeries | null {
    let series = this.#cache.get(seriesKey);
    if (series !== undefined) return series;
    if (this.#cache.size >= MAX_SERIES) this.#cache.clear();
    series = this.#build(seriesKey);
    this.#cache.set(seriesKey, series);
    return series;
  }

  #build(seriesKey: string): RedisSeries | null {
    // A dummy field makes the series key a whole line for the one parser that knows the escaping rules.
    const parsed = parseLine(`${seriesKey} x=1`);
    if (!parsed.ok) return null;
    const p = parsed.line;
    const layout = this.#layout;
    const measurement = redisKeyPart(p.measurement);
    let device: string | undefined;
    const tagPairs: string[] = [];
    const tagKeys: string[] = [];
    for (const [k, v] of p.tags) {
      tagPairs.push(k, v);
      tagKeys.push(k);
      if (k === layout.deviceTag && device === undefined) device = v;
    }
    const reserved = reservedNames(tagKeys);
    const latestKey = device === undefined ? undefined : `${layout.keyPrefix}latest:{${redisKeyPart(device)}}:${measurement}`;
    const streamKey = `${layout.keyPrefix}stream:{${measurement}}`;
    const timesKey = latestKey === undefined ? undefined : `${latestKey}:ts`;
    return {
      latestKey,
      timesKey,
      streamKey,
      streamHeadBytes: Buffer.from(`[${JSON.stringify(streamKey)},`, 'utf8'),
      tagsJsonBytes: Buffer.from(tagPairs.map((t) => `,${JSON.stringify(t)}`).join(''), 'utf8'),
      latestHeadBytes: Buffer.from(latestKey === undefined ? '' : `[${JSON.stringify(latestKey)},${JSON.stringify(timesKey)},[`, 'utf8'),
      tagKeys,
      reservedNames: reserved,
      reservedMask: lengthMask(reserved),
      streamRefusal: layout.streams ? tagKeysRefusal(tagKeys) : undefined,
    };
  }
}
