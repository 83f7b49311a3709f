import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { startRedisCluster, type RedisClusterHandle } from '../harness/RedisCluster.ts';
import { RedisSink } from '../../src/sinks/redis/RedisSink.ts';
import { CollapsingLog } from '../../src/log/CollapsingLog.ts';
import { batchOf as makeBatch, type Batch } from '../../src/spool/Batch.ts';
import { memoryLogger } from '../fakes/silentLogger.ts';
import { redisSinkConfig } from '../fakes/redisSinkConfig.ts';
import { parseHostPort } from '../../src/config/formats.ts';

const never = new AbortController().signal;
const DEVICES = 200;
const MEASUREMENTS = 20;

/** One batch: every device reports every measurement once (device d reports measurement d % MEASUREMENTS twice). */
function batchOf(position: number, round: number, origin = 'cluster-test'): Batch {
  const lines: string[] = [];
  for (let d = 0; d < DEVICES; d++) lines.push(`m${d % MEASUREMENTS},device=dev${d} v=${round},d=${d}i ${(1_000_000 + round) * 1000}`);
  return makeBatch([lines.join('\n')], {
    positions: [position],
    origin,
    points: lines.length,
    bytes: 0,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: 0,
  });
}

describe('RedisSink in cluster mode against a 3-master redis-server cluster', () => {
  let cluster: RedisClusterHandle;
  let sink: RedisSink;
  const { logger } = memoryLogger();
  const collapsed = new CollapsingLog({ logger, intervalMs: 1000 });

  before(async () => {
    cluster = await startRedisCluster(3);
    sink = new RedisSink({
      // Seeded with one node only: the others are discovered.
      config: redisSinkConfig(`redis://${cluster.addresses[0]}`, {
        mode: 'cluster',
        clusterNodes: [parseHostPort(cluster.addresses[1]!)!],
      }),
      logger,
      collapsed,
    });
    await sink.start();
  });

  after(async () => {
    await sink?.stop();
    await cluster?.destroy();
  });

  it('writes every latest value and stream entry, each on the master owning its slot; a resent batch adds no entry twice', async () => {
    // The cluster client connects in the background: write until it is ready.
    let result: unknown;
    for (let i = 0; ; i++) {
      try {
        result = await sink.write(batchOf(1, 1), never);
        break;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.deepEqual(result, { accepted: DEVICES, rejected: 0, duplicates: 0 });
    assert.deepEqual(
      await sink.write(batchOf(1, 1), never),
      { accepted: DEVICES, rejected: 0, duplicates: DEVICES },
      'the same batch again: de-duplicated',
    );
    assert.deepEqual(await sink.write(batchOf(2, 2), never), { accepted: DEVICES, rejected: 0, duplicates: 0 });

    const perNode: number[] = [];
    const slotsSeen = new Set<number>();
    let streamEntries = 0;
    let latestHashes = 0;
    for (const node of cluster.nodes) {
      const c = new Redis(node.url);
      try {
        const keys = await c.keys('eb:*');
        perNode.push(keys.length);
        for (const key of keys) {
          const slot = calculateSlot(key);
          slotsSeen.add(slot);
          // The node holding a key must own its slot (CLUSTER COUNTKEYSINSLOT counts only local keys).
          assert.ok(Number(await c.cluster('COUNTKEYSINSLOT', slot)) > 0, `${key} on its slot's master`);
          if (/^eb:stream:\{[^}]+\}$/.test(key)) streamEntries += await c.xlen(key);
          if (/^eb:latest:\{[^}]+\}:m\d+$/.test(key)) {
            latestHashes++;
            const d = Number(/dev(\d+)/.exec(key)![1]);
            assert.deepEqual(await c.hgetall(key), { v: '2', d: String(d) });
          }
        }
      } finally {
        c.disconnect();
      }
    }
    console.log(`keys per master: ${perNode.join(' / ')}; distinct slots: ${slotsSeen.size}`);
    assert.equal(latestHashes, DEVICES);
    assert.equal(streamEntries, 2 * DEVICES, 'two batches of entries, the resent one skipped');
    assert.ok(
      perNode.every((n) => n > 0),
      `keys spread over all masters: ${perNode.join(',')}`,
    );
    assert.ok(slotsSeen.size > DEVICES / 2, `keys spread over many slots: ${slotsSeen.size}`);
  });
});
