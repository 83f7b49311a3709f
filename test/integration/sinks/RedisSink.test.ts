import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis } from '../../harness/index.ts';
import type { RedisHandle } from '../../harness/index.ts';
import type { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import type { RedisSinkConfig } from '../../../src/config/Config.ts';
import { batchOf as makeBatch, entryLines, type Batch } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { openRedisSinks } from './openRedisSinks.ts';
import { BATCH_SCRIPT } from '../../../src/sinks/redis/batchScript.ts';

let nextPosition = 0;
function batch(chunks: string[]): Batch {
  let points = 0;
  for (const c of chunks) points += c.split('\n').length;
  return makeBatch(chunks, {
    positions: chunks.map(() => nextPosition++),
    origin: 'test-origin',
    points,
    bytes: 0,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: 0,
  });
}

const never = new AbortController().signal;
const us = (ms: number): number => ms * 1000;

describe('RedisSink against redis-server', () => {
  let rd: RedisHandle;
  let redis: Redis;
  const { logger } = memoryLogger();
  const collapsed = new CollapsingLog({ logger, intervalMs: 1000 });

  const openSink = openRedisSinks(() => rd.url, { logger, collapsed });
  async function sink(overrides: Partial<RedisSinkConfig> = {}): Promise<RedisSink> {
    const s = await openSink(overrides);
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

  it('coalesces latest values within a batch: the newest per device and field wins, whatever the order', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    const r = await s.write(
      batch([
        `climate,device=a t=3,h=50 ${us(3000)}`,
        `climate,device=a t=1 ${us(1000)}`,
        `climate,device=a t=2 ${us(2000)}\nclimate,device=b t=9 ${us(1500)}`,
      ]),
      never,
    );
    assert.deepEqual(r, { accepted: 4, rejected: 0, duplicates: 0 });
    assert.deepEqual(await redis.hgetall('eb:latest:{a}:climate'), { t: '3', h: '50' });
    assert.deepEqual(await redis.hgetall('eb:latest:{a}:climate:ts'), { t: '3000', h: '3000' });
    assert.equal(await redis.hget('eb:latest:{b}:climate', 't'), '9');
    assert.equal(await redis.xlen('eb:stream:{climate}'), 4, 'every point is a stream entry');
    await s.stop();
  });

  it('a later batch with older values does not overwrite newer ones held in Redis', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    await s.write(batch([`climate,device=a t=0.5 ${us(500)}`]), never);
    assert.equal(await redis.hget('eb:latest:{a}:climate', 't'), '3');
    await s.write(batch([`climate,device=a t=4 ${us(4000)}`]), never);
    assert.equal(await redis.hget('eb:latest:{a}:climate', 't'), '4');
    await s.stop();
  });

  it('stream entries carry ts, tags and fields with their text values', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    await s.write(batch([`kinds,device=k,site=north f=1.5,i=42i,b=true,s="hi \\"there\\"" ${us(7000)}`]), never);
    const [[, flat]] = (await redis.xrange('eb:stream:{kinds}', '-', '+')) as [string, string[]][];
    const entry = Object.fromEntries(flat!.flatMap((_, i) => (i % 2 === 0 ? [[flat![i], flat![i + 1]]] : [])));
    assert.deepEqual(entry, { ts: '7000', device: 'k', site: 'north', f: '1.5', i: '42', b: 'true', s: 'hi "there"' });
    assert.deepEqual(await redis.hgetall('eb:latest:{k}:kinds'), { f: '1.5', i: '42', b: 'true', s: 'hi "there"' });
    await s.stop();
  });

  it('device and measurement names cannot add key levels or change hash slots', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    await s.write(batch([`we\\ ird:m,device=a}b{c:d%e\\ f v=1 ${us(1)}`]), never);
    const keys = (await redis.keys('eb:latest:*')).filter((k) => k.includes('%'));
    assert.deepEqual(keys.sort(), ['eb:latest:{a%7Db%7Bc%3Ad%25e%20f}:we%20ird%3Am', 'eb:latest:{a%7Db%7Bc%3Ad%25e%20f}:we%20ird%3Am:ts']);
    await s.stop();
  });

  it('streams are capped near streamMaxLen', async () => {
    const s = await sink({ streamMaxLen: 100 });
    await new Promise((r) => setTimeout(r, 100));
    const ls = Array.from({ length: 1000 }, (_, i) => `capped,device=d v=${i} ${us(i + 1)}`);
    await s.write(batch([ls.join('\n')]), never);
    const len = await redis.xlen('eb:stream:{capped}');
    assert.ok(len >= 100 && len < 300, `length ${len}`);
    await s.stop();
  });

  it('a key of the wrong type rejects the batch (data error, not retried)', async () => {
    await redis.set('eb:stream:{clash}', 'a string');
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    const r = await s.write(batch([`clash,device=z v=1 ${us(1)}`]), never);
    assert.equal(r.accepted, 0);
    assert.equal(r.rejected, 1);
    assert.match(r.reason ?? '', /WRONGTYPE/);
    await s.stop();
  });

  it('entries in time order, not position order: a failure mid-batch records the position below the lowest not appended (a retry duplicates, never skips)', async () => {
    await redis.set('eb:stream:{wrong}', 'a string');
    const entries = [
      ['eb:stream:{order}', 300, ['ts', '1', 'v', '3']],
      ['eb:stream:{order}', 100, ['ts', '2', 'v', '1']],
      ['eb:stream:{wrong}', 150, ['ts', '3', 'v', '0']],
      ['eb:stream:{order}', 200, ['ts', '4', 'v', '2']],
    ];
    const call = () => redis.eval(BATCH_SCRIPT, 0, '1000', 'spool-O', '[]', JSON.stringify(entries));
    await assert.rejects(call(), /WRONGTYPE/);
    assert.equal(await redis.xlen('eb:stream:{order}'), 2, 'appended before the failure: 300 and 100');
    // Not 300: entry 200 was never appended, and a retry must not skip it.
    assert.equal(await redis.hget('eb:stream:{order}:applied', 'spool-O'), '199');
    await redis.del('eb:stream:{wrong}');
    assert.deepEqual(await call(), [0, 3, 1]);
    const values = (await redis.xrange('eb:stream:{order}', '-', '+')).map(([, f]) => f[3]);
    assert.deepEqual(values, ['3', '1', '3', '2'], 'entry 300 again (a duplicate), 100 skipped, 200 appended');
    assert.equal(await redis.xlen('eb:stream:{wrong}'), 1);
    assert.equal(await redis.hget('eb:stream:{order}:applied', 'spool-O'), '300');
  });

  it('a batch sent again after a crash adds no stream entry twice (positions per spool origin)', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    const first: Batch = {
      ...batch([`dup,device=a v=1 ${us(1)}`, `dup,device=a v=2 ${us(2)}\ndup,device=b v=3 ${us(3)}`]),
      positions: [100, 200],
      origin: 'spool-A',
    };
    assert.equal((await s.write(first, never)).duplicates, 0);
    assert.equal(await redis.xlen('eb:stream:{dup}'), 3);
    // The same entries again, plus a new one: only the new one is appended.
    const again: Batch = { ...batch([...entryLines(first), `dup,device=a v=4 ${us(4)}`]), positions: [100, 200, 300], origin: 'spool-A' };
    const r = await s.write(again, never);
    assert.equal(r.duplicates, 3);
    assert.equal(await redis.xlen('eb:stream:{dup}'), 4);
    // Another spool (another gateway, or a wiped spool) has positions of its own.
    const other: Batch = { ...batch([`dup,device=c v=5 ${us(5)}`]), positions: [1], origin: 'spool-B' };
    assert.equal((await s.write(other, never)).duplicates, 0);
    assert.equal(await redis.xlen('eb:stream:{dup}'), 5);
    assert.deepEqual(await redis.hgetall('eb:stream:{dup}:applied'), { 'spool-A': '300', 'spool-B': '1' });
    await s.stop();
  });

  it('writes a catch-up batch of 40 000 points in one call (no argument spreading limit)', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    const ls = Array.from({ length: 40_000 }, (_, i) => `big,device=d${i % 100} v=${i} ${us(i + 1)}`);
    const r = await s.write(batch(ls), never);
    assert.deepEqual(r, { accepted: 40_000, rejected: 0, duplicates: 0 });
    assert.equal(await redis.xlen('eb:stream:{big}'), 40_000);
    await s.stop();
  });

  it('fails fast (retryable) while Redis is down instead of queueing in memory', async () => {
    const s = await sink();
    await new Promise((r) => setTimeout(r, 100));
    await rd.stop();
    const started = Date.now();
    await assert.rejects(
      s.write(batch([`down,device=a v=1 ${us(1)}`]), never),
      (e: unknown) => (e as { retryable?: boolean }).retryable === true,
    );
    assert.ok(Date.now() - started < 500, 'no waiting on an offline queue');
    await rd.restart();
    await s.stop();
  });
});
