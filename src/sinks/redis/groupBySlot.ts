import calculateSlot from 'cluster-key-slot';
import type { BuiltBatch } from './RedisBatchBuilder.ts';

/** One script call of a cluster batch: every key it touches hashes to `slot`. */
export interface SlotCall {
  readonly slot: number;
  /** Every key the call touches, declared as KEYS so ioredis routes it and Redis checks the slot. */
  readonly keys: readonly string[];
  /** The ARGV of `BATCH_SCRIPT` for this slot's share of the batch. */
  readonly argv: readonly string[];
}

/**
 * Splits a built batch into one `BATCH_SCRIPT` call per hash slot (Redis Cluster runs a script on one node, on
 * keys of one slot). A separate step on the builder's output so the builder's loop stays as it is. Keys carry
 * hash tags (`{device}`, `{measurement}`): a latest group's two hashes share a slot, and so do a stream and its
 * `:applied` de-dup hash. Stream entries keep their order within each stream, so the de-dup positions still
 * only grow per stream and a retried batch stays exactly-once per stream, whichever slots already landed.
 */
export function groupBySlot(built: BuiltBatch): SlotCall[] {
  const bySlot = new Map<number, { keys: Set<string>; latest: unknown[]; streams: string[] }>();
  const group = (key: string) => {
    const slot = calculateSlot(key);
    let g = bySlot.get(slot);
    if (g === undefined) bySlot.set(slot, (g = { keys: new Set(), latest: [], streams: [] }));
    return g;
  };
  for (const entry of built.latest) {
    const g = group(entry[0]);
    g.keys.add(entry[0]).add(entry[1]);
    g.latest.push(entry);
  }
  for (let i = 0; i < built.streamKeys.length; i++) {
    const key = built.streamKeys[i]!;
    const g = group(key);
    g.keys.add(key).add(`${key}:applied`);
    g.streams.push(built.streamEntries[i]!);
  }
  const [maxLen, origin] = built.argv;
  const calls: SlotCall[] = [];
  for (const [slot, g] of bySlot) {
    calls.push({ slot, keys: [...g.keys], argv: [maxLen!, origin!, JSON.stringify(g.latest), `[${g.streams.join(',')}]`] });
  }
  return calls;
}
