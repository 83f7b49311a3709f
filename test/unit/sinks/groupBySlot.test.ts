import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { latestOf, RedisBatchBuilder, streamsOf } from '../../../src/sinks/redis/RedisBatchBuilder.ts';
import { groupBySlot } from '../../../src/sinks/redis/groupBySlot.ts';
import { batchOf as makeBatch, type Batch } from '../../../src/spool/Batch.ts';

const layout = { keyPrefix: 'eb:', deviceTag: 'device', latest: true, streams: true, streamMaxLen: 1000 };

function batch(lines: string[]): Batch {
  return makeBatch(lines, {
    positions: lines.map((_, i) => 10 + i),
    origin: 'o',
    points: lines.length,
    bytes: 0,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: 0,
  });
}

describe('groupBySlot', () => {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) lines.push(`m${i % 7},device=d${i % 13} v=${i} ${(1000 + i) * 1000}`);
  const built = new RedisBatchBuilder(layout).build(batch(lines));
  const calls = groupBySlot(built);

  it('every call touches keys of one slot, and declares them all', () => {
    for (const call of calls) {
      for (const key of call.keys) assert.equal(calculateSlot(key), call.slot, key);
      const [, , latest, streams] = call.argv;
      for (const [vk, tk] of JSON.parse(latest.toString()) as [string, string][])
        assert.ok(call.keys.includes(vk) && call.keys.includes(tk));
      for (const [sk] of JSON.parse(streams.toString()) as [string][])
        assert.ok(call.keys.includes(sk) && call.keys.includes(`${sk}:applied`));
    }
    assert.equal(new Set(calls.map((c) => c.slot)).size, calls.length, 'one call per slot');
  });

  it("loses nothing and keeps each stream's entries in order, with the batch's maxlen and origin", () => {
    const latest = calls.flatMap((c) => JSON.parse(c.argv[2].toString()) as unknown[]);
    const streams = calls.flatMap((c) => JSON.parse(c.argv[3].toString()) as [string, number, string[]][]);
    assert.equal(latest.length, latestOf(built).length);
    const builtStreams = streamsOf(built);
    assert.equal(streams.length, builtStreams.length);
    for (const key of new Set(builtStreams.map((e) => e[0]))) {
      assert.deepEqual(
        streams.filter((e) => e[0] === key),
        builtStreams.filter((e) => e[0] === key),
      );
    }
    for (const c of calls) assert.deepEqual(c.argv.slice(0, 2), ['1000', 'o']);
  });
});
