import calculateSlot from 'cluster-key-slot';
import type { BuiltBatch } from './RedisBatchBuilder.ts';

/** One script call of a cluster batch: every key it touches hashes to `slot`. */
export interface SlotCall {
  readonly slot: number;
  /** Every key the call touches, declared as KEYS so ioredis routes it and Redis checks the slot. */
  readonly keys: readonly string[];
  /** The ARGV of `BATCH_SCRIPT` for this slot's share of the batch. */
  readonly argv: readonly [string, string, Buffer, Buffer];
}

/**
 * Splits a built batch into one `BATCH_SCRIPT` call per hash slot (Redis Cluster runs a script on one node, on
 * keys of one slot). A separate step on the builder's output so the builder's loop stays as it is: each latest
 * group and stream entry is cut out of the built JSON where the builder says it ends, and the pieces of a slot
 * are joined into its own JSON lists. Keys carry hash tags (`{device}`, `{measurement}`): a latest group's two
 * hashes share a slot, and so do a stream and its `:applied` de-dup hash. Stream entries keep their order within
 * each stream, so the de-dup positions still only grow per stream and a retried batch stays exactly-once per
 * stream, whichever slots already landed.
 */
export function groupBySlot(built: BuiltBatch): SlotCall[] {
  const bySlot = new Map<number, { keys: Set<string>; latest: Buffer[]; streams: Buffer[] }>();
  const group = (key: string) => {
    const slot = calculateSlot(key);
    let g = bySlot.get(slot);
    if (g === undefined) bySlot.set(slot, (g = { keys: new Set(), latest: [], streams: [] }));
    return g;
  };
  const [maxLen, origin, latestJson, streamsJson] = built.argv;
  for (let i = 0; i < built.latestEnds.length; i++) {
    const valuesKey = built.latestKeys[2 * i]!;
    const g = group(valuesKey);
    g.keys.add(valuesKey).add(built.latestKeys[2 * i + 1]!);
    g.latest.push(piece(latestJson, built.latestEnds, i));
  }
  for (let i = 0; i < built.streamKeys.length; i++) {
    const key = built.streamKeys[i]!;
    const g = group(key);
    g.keys.add(key).add(`${key}:applied`);
    g.streams.push(piece(streamsJson, built.streamEnds, i));
  }
  const calls: SlotCall[] = [];
  for (const [slot, g] of bySlot) calls.push({ slot, keys: [...g.keys], argv: [maxLen, origin, list(g.latest), list(g.streams)] });
  return calls;
}

/** Item i of a JSON list whose items end at `ends` (each followed by ',' or the closing ']'). */
function piece(json: Buffer, ends: readonly number[], i: number): Buffer {
  return json.subarray(i === 0 ? 1 : ends[i - 1]! + 1, ends[i]);
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

function list(items: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(items[i]!);
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
