import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createTestPki, type TestPki } from '../../harness/index.ts';
import { startRedisSentinel, type RedisSentinelHandle } from '../../harness/RedisSentinel.ts';
import { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { parseHostPort } from '../../../src/config/redisFormats.ts';
import { DEFAULT_TLS } from '../../../src/tls/TlsConfig.ts';
import { batchOf } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { redisSinkConfig } from '../../fakes/redisSinkConfig.ts';

const never = new AbortController().signal;
let position = 0;

/**
 * rediss:// in sentinel mode against real Sentinels and a master that listen on TLS (certificates made by openssl
 * for this run): the sink asks the Sentinels over TLS, then writes to the master over TLS, with the one `tls` block.
 */
describe('Redis Sentinel over TLS (rediss:// in mode sentinel)', () => {
  let pki: TestPki;
  let rs: RedisSentinelHandle;
  const log = memoryLogger();
  const collapsed = new CollapsingLog({ logger: log.logger, intervalMs: 1000 });
  const sinks: RedisSink[] = [];

  before(async () => {
    pki = createTestPki();
    rs = await startRedisSentinel({ replicas: 0, sentinels: 1, tls: pki });
  });
  after(async () => {
    await Promise.all(sinks.map((s) => s.stop()));
    await rs?.destroy();
    pki?.destroy();
  });

  async function sink(caFile: string): Promise<RedisSink> {
    const s = new RedisSink({
      config: redisSinkConfig('rediss://127.0.0.1:6379', {
        mode: 'sentinel',
        sentinels: rs.sentinelTlsAddresses.map((a) => parseHostPort(a)!),
        sentinelName: rs.masterName,
        tls: { ...DEFAULT_TLS, caFile },
      }),
      logger: log.logger,
      collapsed,
    });
    sinks.push(s);
    await s.start();
    return s;
  }

  async function write(s: RedisSink, device: string, ms: number): Promise<unknown> {
    const deadline = Date.now() + ms;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        await s.write(batchOf([`senttls,device=${device} v=1 ${Date.now() * 1000}`], { positions: [position++], origin: 'sentinel-tls', firstReceivedAt: 0, lastReceivedAt: 0, end: 0 }), never);
        return undefined;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return last;
  }

  it('with the right CA: Sentinels and master over TLS, the batch lands', async () => {
    const s = await sink(pki.caFile);
    assert.equal(await write(s, 'tls-ok', 10_000), undefined);
    // Read back over the master's plain port (the harness's own way in).
    const master = new Redis((await rs.master()).url);
    try {
      assert.equal(await master.hget('eb:latest:{tls-ok}:senttls', 'v'), '1');
    } finally {
      master.disconnect();
    }
  });

  it('with the wrong CA nothing is written, the batch is kept for retry, and the log names the certificate', async () => {
    const s = await sink(pki.otherCaFile);
    const error = await write(s, 'tls-wrong', 3000);
    assert.ok(error instanceof SinkError, `a SinkError, got ${String(error)}`);
    assert.equal(error.retryable, true);
    const master = new Redis((await rs.master()).url);
    try {
      assert.equal(await master.exists('eb:latest:{tls-wrong}:senttls'), 0);
    } finally {
      master.disconnect();
    }
    assert.match(log.lines().map((l) => JSON.stringify(l)).join('\n'), /certificate|sentinel/i);
  });
});
