import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis } from '../../harness/index.ts';
import type { RedisHandle } from '../../harness/index.ts';
import type { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import type { RedisSinkConfig } from '../../../src/config/Config.ts';
import { batchOf as makeBatch, type Batch } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { openRedisSinks } from './openRedisSinks.ts';

let nextPosition = 0;
function batch(chunks: string[]): Batch {
  let points = 0;
  for (const c of chunks) points += c.split('\n').length;
  return makeBatch(chunks, {
    positions: chunks.map(() => nextPosition++),
    origin: 'poison-origin',
    points,
    bytes: 0,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: 0,
  });
}

const never = new AbortController().signal;
const T0 = 1_700_000_000_000;

/** `climate,device=<d>,gateway=g t=…,h=… <µs>`: what the router writes for a normal device. */
function normal(device: string, i: number): string {
  return `climate,device=${device},gateway=g t=${20 + (i % 10)},h=40 ${(T0 + i) * 1000}`;
}

/** One point with `n` short fields (what a JSON object of n fields becomes). */
function wide(device: string, n: number, from = 0, measurement = 'climate'): string {
  const fields: string[] = [];
  for (let f = from; f < from + n; f++) fields.push(`f${f}=1`);
  return `${measurement},device=${device},gateway=g ${fields.join(',')} ${T0 * 1000}`;
}

/** issue 12 item 2: one device's content must never make Redis refuse the other devices' points. */
describe('RedisSink: one device cannot erase the others (real redis-server)', () => {
  let rd: RedisHandle;
  let redis: Redis;
  const { logger } = memoryLogger();
  const collapsed = new CollapsingLog({ logger, intervalMs: 1000 });

  const openSink = openRedisSinks(() => rd.url, { logger, collapsed });
  async function sink(overrides: Partial<RedisSinkConfig> = {}): Promise<RedisSink> {
    const s = await openSink(overrides);
    await new Promise((r) => setTimeout(r, 100));
    return s;
  }

  before(async () => {
    rd = await startRedis();
    redis = new Redis(rd.url);
  });
  after(async () => {
    redis.disconnect();
    await rd.destroy();
  });

  it('a point of 4 100 fields among 517 normal ones: the 517 land, the wide one is rejected and counted', async () => {
    await redis.flushall();
    const s = await sink();
    const chunks = Array.from({ length: 517 }, (_, i) => normal(`n${i}`, i));
    chunks.splice(300, 0, wide('poison', 4100));
    const r = await s.write(batch(chunks), never);
    assert.equal(r.accepted, 517);
    assert.equal(r.rejected, 1);
    assert.match(r.reason ?? '', /fields/);
    assert.equal(await redis.xlen('eb:stream:{climate}'), 517);
    for (let i = 0; i < 517; i++) assert.equal(await redis.hget(`eb:latest:{n${i}}:climate`, 'h'), '40', `device n${i}`);
    await s.stop();
  });

  it('one device with 6 000 distinct fields in one batch (coalesced into one hash): every latest value lands', async () => {
    await redis.flushall();
    const s = await sink();
    const r = await s.write(batch([wide('many', 2000, 0), normal('other', 1), wide('many', 2000, 2000), wide('many', 2000, 4000)]), never);
    assert.deepEqual(r, { accepted: 4, rejected: 0, duplicates: 0 });
    assert.equal(await redis.hlen('eb:latest:{many}:climate'), 6000);
    assert.equal(await redis.hlen('eb:latest:{many}:climate:ts'), 6000);
    assert.equal(await redis.xlen('eb:stream:{climate}'), 4);
    await s.stop();
  });

  it('a point of 100 000 fields with latest values only (no stream entry limit): it lands, in chunks', async () => {
    await redis.flushall();
    const s = await sink({ streams: false });
    const r = await s.write(batch([normal('a', 1), wide('huge', 100_000), normal('b', 2)]), never);
    assert.deepEqual(r, { accepted: 3, rejected: 0, duplicates: 0 });
    assert.equal(await redis.hlen('eb:latest:{huge}:climate'), 100_000);
    assert.equal(await redis.hget('eb:latest:{b}:climate', 'h'), '40');
    await s.stop();
  });

  it('a content error Redis reports for one point (a key of the wrong type) rejects that point only', async () => {
    await redis.flushall();
    await redis.set('eb:stream:{clash}', 'a string');
    const s = await sink();
    const chunks = Array.from({ length: 200 }, (_, i) => normal(`n${i}`, i));
    chunks.splice(123, 0, `clash,device=z v=1 ${T0 * 1000}`);
    const r = await s.write(batch(chunks), never);
    assert.equal(r.accepted, 200);
    assert.equal(r.rejected, 1);
    assert.match(r.reason ?? '', /WRONGTYPE/);
    assert.equal(await redis.xlen('eb:stream:{climate}'), 200, 'no stream entry lost or written twice by the retried halves');
    for (let i = 0; i < 200; i++) assert.equal(await redis.hget(`eb:latest:{n${i}}:climate`, 'h'), '40', `device n${i}`);
    await s.stop();
  });

  it("a latest hash of the wrong type for one device rejects that device's point only", async () => {
    await redis.flushall();
    await redis.set('eb:latest:{z}:clash', 'a string');
    const s = await sink();
    const chunks = Array.from({ length: 50 }, (_, i) => normal(`n${i}`, i));
    chunks.splice(20, 0, `clash,device=z v=1 ${T0 * 1000}`);
    const r = await s.write(batch(chunks), never);
    assert.equal(r.accepted, 50);
    assert.equal(r.rejected, 1);
    assert.match(r.reason ?? '', /WRONGTYPE/);
    assert.equal(await redis.xlen('eb:stream:{climate}'), 50);
    for (let i = 0; i < 50; i++) assert.equal(await redis.hget(`eb:latest:{n${i}}:climate`, 'h'), '40', `device n${i}`);
    await s.stop();
  });
});
