import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createTestPki, type TestPki } from '../../harness/index.ts';
import { startRedisSentinel, type RedisSentinelHandle, type RedisSentinelOptions } from '../../harness/RedisSentinel.ts';
import { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { parseHostPort } from '../../../src/config/formats.ts';
import { DEFAULT_TLS } from '../../../src/tls/TlsConfig.ts';
import { batchOf } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { redisSinkConfig, type RedisSinkOverrides } from '../../fakes/redisSinkConfig.ts';

const SENTINEL_PASSWORD = 'sentinel-Pa55-7d1';
const never = new AbortController().signal;
let position = 0;

/** One Sentinel setup (1 Sentinel, a master, no replica) and Redis sinks in sentinel mode against it. */
function sentinelSetup(options: () => RedisSentinelOptions) {
  const log = memoryLogger();
  const collapsed = new CollapsingLog({ logger: log.logger, intervalMs: 1000 });
  const sinks: RedisSink[] = [];
  const ctx = { rs: undefined as unknown as RedisSentinelHandle, log };
  before(async () => {
    ctx.rs = await startRedisSentinel({ replicas: 0, sentinels: 1, ...options() });
  });
  after(async () => {
    await Promise.all(sinks.map((s) => s.stop()));
    await ctx.rs?.destroy();
  });
  return {
    ctx,
    /** A started sink that asks the Sentinels at `addresses` for the master. */
    async sink(url: string, addresses: readonly string[], overrides: RedisSinkOverrides): Promise<RedisSink> {
      const s = new RedisSink({
        config: redisSinkConfig(url, {
          mode: 'sentinel',
          sentinels: addresses.map((a) => parseHostPort(a)!),
          sentinelName: ctx.rs.masterName,
          ...overrides,
        }),
        logger: log.logger,
        collapsed,
      });
      sinks.push(s);
      await s.start();
      return s;
    },
    /** Writes a point for `device` until the sink answers (it connects in the background); the last error after `ms`. */
    async write(s: RedisSink, device: string, ms: number): Promise<unknown> {
      const deadline = Date.now() + ms;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          await s.write(
            batchOf([`sent,device=${device} v=1 ${Date.now() * 1000}`], {
              positions: [position++],
              origin: 'sentinel-test',
              firstReceivedAt: 0,
              lastReceivedAt: 0,
              end: 0,
            }),
            never,
          );
          return undefined;
        } catch (e) {
          last = e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      return last;
    },
    /** Whether the master holds the latest-value hash of `device` (read over its plain port, the harness's way in). */
    async landed(device: string): Promise<boolean> {
      const master = new Redis((await ctx.rs.master()).url);
      try {
        return (await master.hget(`eb:latest:{${device}}:sent`, 'v')) === '1';
      } finally {
        master.disconnect();
      }
    },
  };
}

/**
 * Sentinels that require a password (`requirepass` in sentinel.conf) in front of an open master: the sink finds the
 * master through them with `sentinelPassword`; without it, or with a wrong one, it finds nothing, keeps the batch
 * for retry and says why.
 */
describe('Redis Sentinels with a password (sinks.redis.sentinelPassword)', () => {
  const setup = sentinelSetup(() => ({ sentinelPassword: SENTINEL_PASSWORD }));
  const sink = (sentinelPassword: string) => setup.sink('redis://127.0.0.1:6379', setup.ctx.rs.sentinelAddresses, { sentinelPassword });

  it("with the Sentinels' password the master is found and the batch lands", async () => {
    assert.equal(await setup.write(await sink(SENTINEL_PASSWORD), 'right', 8000), undefined);
    assert.equal(await setup.landed('right'), true);
  });

  for (const [name, password, device] of [
    ['without a password', '', 'none'],
    ['with a wrong password', 'not-it', 'wrong'],
  ] as const) {
    it(`${name} nothing is written and the batch is kept for retry, not rejected`, async () => {
      const error = await setup.write(await sink(password), device, 3000);
      assert.ok(error instanceof SinkError, `a SinkError, got ${String(error)}`);
      assert.equal(error.retryable, true);
      assert.equal(await setup.landed(device), false);
      const said = setup.ctx.log
        .lines()
        .map((l) => JSON.stringify(l))
        .join('\n');
      assert.match(said, /NOAUTH|WRONGPASS|invalid password|Authentication required|All sentinels are unreachable/i, 'the log says why');
      assert.ok(!said.includes(SENTINEL_PASSWORD), 'the password is never logged');
    });
  }
});

/**
 * rediss:// in sentinel mode against a real Sentinel and master that listen on TLS (certificates made by openssl
 * for this run): the sink asks the Sentinel over TLS, then writes to the master over TLS, with the one `tls` block.
 */
describe('Redis Sentinel over TLS (rediss:// in mode sentinel)', () => {
  const pki: TestPki = createTestPki();
  after(() => pki.destroy());
  const setup = sentinelSetup(() => ({ tls: pki }));
  const sink = (caFile: string) =>
    setup.sink('rediss://127.0.0.1:6379', setup.ctx.rs.sentinelTlsAddresses, { tls: { ...DEFAULT_TLS, caFile } });

  it('with the right CA: Sentinel and master over TLS, the batch lands', async () => {
    assert.equal(await setup.write(await sink(pki.caFile), 'tls-ok', 10_000), undefined);
    assert.equal(await setup.landed('tls-ok'), true);
  });

  it('with the wrong CA nothing is written, the batch is kept for retry, and the error names the certificate', async () => {
    const error = await setup.write(await sink(pki.otherCaFile), 'tls-wrong', 3000);
    assert.ok(error instanceof SinkError, `a SinkError, got ${String(error)}`);
    assert.equal(error.retryable, true);
    assert.equal(await setup.landed('tls-wrong'), false);
    // ioredis only says "All sentinels are unreachable"; the sink's own handshake with a Sentinel finds out why.
    assert.match(error.message, /TLS: server certificate not accepted .*check sinks\.redis\.tls\.caFile/);
    assert.match(
      setup.ctx.log
        .lines()
        .map((l) => JSON.stringify(l))
        .join('\n'),
      /TLS: server certificate not accepted/,
    );
  });
});
