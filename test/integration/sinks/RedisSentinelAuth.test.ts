import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedisSentinel, type RedisSentinelHandle } from '../../harness/RedisSentinel.ts';
import { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { parseHostPort } from '../../../src/config/redisFormats.ts';
import { batchOf } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { redisSinkConfig } from '../../fakes/redisSinkConfig.ts';

const SENTINEL_PASSWORD = 'sentinel-Pa55-7d1';
const never = new AbortController().signal;
let position = 0;

/**
 * Sentinels that require a password (`requirepass` in sentinel.conf) in front of an open master: the sink finds the
 * master through them with `sentinelPassword`; without it, or with a wrong one, it finds nothing, keeps the batch
 * for retry and says why.
 */
describe('Redis Sentinels with a password (sinks.redis.sentinelPassword)', () => {
  let rs: RedisSentinelHandle;
  const log = memoryLogger();
  const collapsed = new CollapsingLog({ logger: log.logger, intervalMs: 1000 });
  const sinks: RedisSink[] = [];

  before(async () => {
    rs = await startRedisSentinel({ replicas: 1, sentinels: 1, sentinelPassword: SENTINEL_PASSWORD });
  });
  after(async () => {
    await Promise.all(sinks.map((s) => s.stop()));
    await rs?.destroy();
  });

  async function sink(sentinelPassword: string): Promise<RedisSink> {
    const s = new RedisSink({
      config: redisSinkConfig('redis://127.0.0.1:6379', {
        mode: 'sentinel',
        sentinels: rs.sentinelAddresses.map((a) => parseHostPort(a)!),
        sentinelName: rs.masterName,
        sentinelPassword,
      }),
      logger: log.logger,
      collapsed,
    });
    sinks.push(s);
    await s.start();
    return s;
  }

  /** Writes until the sink answers (it connects in the background), or gives the last error after `ms`. */
  async function write(s: RedisSink, device: string, ms: number): Promise<unknown> {
    const deadline = Date.now() + ms;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        await s.write(batchOf([`sentauth,device=${device} v=1 ${Date.now() * 1000}`], { positions: [position++], origin: 'sentinel-auth', firstReceivedAt: 0, lastReceivedAt: 0, end: 0 }), never);
        return undefined;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return last;
  }

  it('with the Sentinels\' password the master is found and the batch lands', async () => {
    const s = await sink(SENTINEL_PASSWORD);
    assert.equal(await write(s, 'right', 8000), undefined);
    const master = new Redis((await rs.master()).url);
    try {
      assert.equal(await master.hget('eb:latest:{right}:sentauth', 'v'), '1');
    } finally {
      master.disconnect();
    }
  });

  for (const [name, password] of [['without a password', ''], ['with a wrong password', 'not-it']] as const) {
    it(`${name} nothing is written and the batch is kept for retry, not rejected`, async () => {
      const s = await sink(password);
      const error = await write(s, name.replace(/ /g, '-'), 3000);
      assert.ok(error instanceof SinkError, `a SinkError, got ${String(error)}`);
      assert.equal(error.retryable, true);
      const master = new Redis((await rs.master()).url);
      try {
        assert.equal(await master.exists(`eb:latest:{${name.replace(/ /g, '-')}}:sentauth`), 0);
      } finally {
        master.disconnect();
      }
      const said = log.lines().map((l) => JSON.stringify(l)).join('\n');
      assert.match(said, /NOAUTH|WRONGPASS|invalid password|Authentication required|All sentinels are unreachable/i, 'the log says why');
      assert.ok(!said.includes(SENTINEL_PASSWORD), 'the password is never logged');
    });
  }
});
