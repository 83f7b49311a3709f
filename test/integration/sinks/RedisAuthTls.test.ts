import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connectPublisher, createTestPki, freePort, redisTlsArgs, startMosquitto, startRedis, waitFor } from '../../harness/index.ts';
import type { MosquittoHandle, RedisHandle, TestPki } from '../../harness/index.ts';
import { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { DEFAULT_TLS, type TlsConfig } from '../../../src/tls/TlsConfig.ts';
import { batchOf as makeBatch, type Batch } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { redisSinkConfig, type RedisSinkOverrides } from '../../fakes/redisSinkConfig.ts';
import { GatewayProcess } from '../support/GatewayProcess.ts';

const PASSWORD = 's3cret-Pa55';
const never = new AbortController().signal;
/** A `tls` block: the defaults (verify, no files) with some keys set. */
const tls = (set: Partial<TlsConfig>): TlsConfig => ({ ...DEFAULT_TLS, ...set });
let position = 0;
function batch(device: string): Batch {
  return makeBatch([`authtls,device=${device} v=1 ${Date.now() * 1000}`], {
    positions: [position++],
    origin: 'auth-tls',
    points: 1,
    bytes: 0,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: 0,
  });
}

/** Writes until the sink answers (the connection is made in the background), or returns the last error. */
async function firstOutcome(sink: RedisSink, device: string): Promise<{ ok: true } | { ok: false; error: SinkError }> {
  let last: unknown;
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    try {
      await sink.write(batch(device), never);
      return { ok: true };
    } catch (e) {
      last = e;
      // Give the client time to connect (or to learn why it cannot) before judging.
      if (e instanceof SinkError && e.kind !== 'unavailable' && e.kind !== 'timeout') break;
      // Not connected because of a TLS failure: it says so, and waiting will not change it.
      if (e instanceof Error && /certificate|alert/i.test(e.message)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.ok(last instanceof SinkError, `a SinkError, got ${String(last)}`);
  return { ok: false, error: last };
}

describe('Redis ACL user and TLS against redis-server', () => {
  let pki: TestPki;
  let rd: RedisHandle;
  let rdClientCert: RedisHandle;
  let tlsPort: number;
  let clientCertPort: number;
  let admin: Redis;
  const log = memoryLogger();
  const collapsed = new CollapsingLog({ logger: log.logger, intervalMs: 1000 });
  const sinks: RedisSink[] = [];

  async function sink(url: string, overrides: RedisSinkOverrides = {}): Promise<RedisSink> {
    const s = new RedisSink({ config: redisSinkConfig(url, overrides), logger: log.logger, collapsed });
    sinks.push(s);
    await s.start();
    return s;
  }

  before(async () => {
    pki = createTestPki();
    [tlsPort, clientCertPort] = await Promise.all([freePort(), freePort()]);
    const acl = ['--user', 'alice', 'on', `>${PASSWORD}`, '~*', '+@all'];
    [rd, rdClientCert] = await Promise.all([
      startRedis({ extraArgs: [...acl, ...redisTlsArgs(pki, tlsPort, 'optional')] }),
      startRedis({ extraArgs: redisTlsArgs(pki, clientCertPort, 'yes') }),
    ]);
    admin = new Redis(rd.url);
  });

  after(async () => {
    for (const s of sinks) await s.stop();
    admin?.disconnect();
    await Promise.all([rd?.destroy(), rdClientCert?.destroy()]);
    pki?.destroy();
  });

  it('an ACL user with its password writes (plain TCP), and the connection runs as that user', async () => {
    const s = await sink(rd.url, { username: 'alice', password: PASSWORD });
    assert.deepEqual(await firstOutcome(s, 'acl'), { ok: true });
    assert.equal(await admin.hget('eb:latest:{acl}:authtls', 'v'), '1');
    const clients = String(await admin.client('LIST'));
    assert.match(clients, /user=alice /, clients);
  });

  it('a wrong password is an auth error that names the cause, kept for retry (not a data rejection)', async () => {
    const s = await sink(rd.url, { username: 'alice', password: 'wrong' });
    const r = await firstOutcome(s, 'wrongpass');
    assert.equal(r.ok, false);
    const error = (r as { error: SinkError }).error;
    assert.equal(error.kind, 'auth');
    assert.equal(error.retryable, true);
    assert.match(error.message, /Redis refused the credentials: WRONGPASS/);
    assert.ok(!error.message.includes('wrong'.repeat(1) + '@'), 'no password in the message');
    assert.equal(await admin.exists('eb:latest:{wrongpass}:authtls'), 0);
  });

  it('rediss:// with the CA file: verified TLS, ACL user over it', async () => {
    const s = await sink(`rediss://127.0.0.1:${tlsPort}`, { username: 'alice', password: PASSWORD, tls: tls({ caFile: pki.caFile }) });
    assert.deepEqual(await firstOutcome(s, 'tls'), { ok: true });
    assert.equal(await admin.hget('eb:latest:{tls}:authtls', 'v'), '1');
  });

  it('a server certificate from another CA is refused (retryable, the message says why and which key to check)', async () => {
    const s = await sink(`rediss://127.0.0.1:${tlsPort}`, { tls: tls({ caFile: pki.otherCaFile }) });
    const r = await firstOutcome(s, 'wrongca');
    assert.equal(r.ok, false);
    const error = (r as { error: SinkError }).error;
    assert.equal(error.retryable, true);
    assert.match(error.message, /^Redis unavailable: TLS: server certificate not accepted \(\w+: .+\); check sinks\.redis\.tls\.caFile/);
    console.log(`wrong CA: ${error.message}`);
    assert.equal(await admin.exists('eb:latest:{wrongca}:authtls'), 0);
  });

  it('tls.rejectUnauthorized=false connects despite the unknown CA; the sink does not warn (Gateway.start does, once)', async () => {
    const before = log.lines().length;
    const s = await sink(`rediss://127.0.0.1:${tlsPort}`, { tls: tls({ caFile: pki.otherCaFile, rejectUnauthorized: false }) });
    assert.deepEqual(await firstOutcome(s, 'insecure'), { ok: true });
    assert.deepEqual(
      log
        .lines()
        .slice(before)
        .filter((l) => /verification/i.test(String(l.msg))),
      [],
    );
  });

  it('a server requiring client certificates: refused without one, accepted with certFile/keyFile', async () => {
    const url = `rediss://127.0.0.1:${clientCertPort}`;
    const without = await sink(url, { tls: tls({ caFile: pki.caFile }) });
    const refused = await firstOutcome(without, 'nocert');
    assert.equal(refused.ok, false);
    console.log(`no client certificate: ${(refused as { error: SinkError }).error.message}`);
    const withCert = await sink(url, { tls: tls({ caFile: pki.caFile, certFile: pki.client.cert, keyFile: pki.client.key }) });
    assert.deepEqual(await firstOutcome(withCert, 'cert'), { ok: true });
    const other = new Redis(rdClientCert.url);
    try {
      assert.equal(await other.hget('eb:latest:{cert}:authtls', 'v'), '1');
      assert.equal(await other.exists('eb:latest:{nocert}:authtls'), 0);
    } finally {
      other.disconnect();
    }
  });
});

describe('the gateway with a wrong Redis password', () => {
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let gw: GatewayProcess | undefined;

  before(async () => {
    [mq, rd] = await Promise.all([startMosquitto(), startRedis({ extraArgs: ['--user', 'alice', 'on', `>${PASSWORD}`, '~*', '+@all'] })]);
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([mq?.destroy(), rd?.destroy()]);
  });

  it('opens the breaker and says "auth" in /readyz and /status; the points stay in the spool; no secret in logs', async () => {
    gw = await GatewayProcess.start({
      waitUntil: 'alive',
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_ENABLED: 'false',
        EDGEBRIDGE_REDIS_URL: rd.url,
        EDGEBRIDGE_REDIS_USERNAME: 'alice',
        EDGEBRIDGE_REDIS_PASSWORD: 'not-the-password',
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_INITIAL_MS: '100',
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_MAX_MS: '500',
        EDGEBRIDGE_REDIS_RESILIENCE_BREAKER_THRESHOLD: '2',
        EDGEBRIDGE_REDIS_BATCH_FLUSH_INTERVAL_MS: '100',
      },
    });
    const pub = await connectPublisher(mq.url);
    try {
      await waitFor(async () => (await gw!.status()).mqtt.connected, { timeoutMs: 10_000 });
      for (let i = 0; i < 5; i++) await pub.publish('sensors/dev1/climate', JSON.stringify({ t: i }), 1);
      await waitFor(async () => (await gw!.sink('redis')).breaker === 'open', { timeoutMs: 20_000 });
      const body = (await (await gw.get('/readyz')).json()) as { problems: string[] };
      const problem = body.problems.find((p) => p.startsWith('sink redis:'));
      assert.match(problem ?? '', /circuit breaker open: auth: Redis refused the credentials: WRONGPASS/, JSON.stringify(body));
      const sink = await gw.sink('redis');
      assert.equal(sink.lastError?.kind, 'auth');
      assert.equal(sink.pointsRejected, 0, 'refused credentials never reject data');
      assert.equal(sink.backlog.points, 5, 'the points wait in the spool');
      const everything = gw.stdout + gw.stderr + JSON.stringify(await gw.status());
      assert.ok(!everything.includes('not-the-password'), 'the password never appears');
    } finally {
      await pub.end(true);
    }
  });
});

describe('the gateway with rediss:// and sinks.redis.tls.rejectUnauthorized=false', () => {
  let pki: TestPki;
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let tlsPort: number;
  let gw: GatewayProcess | undefined;

  before(async () => {
    pki = createTestPki();
    tlsPort = await freePort();
    [mq, rd] = await Promise.all([startMosquitto(), startRedis({ extraArgs: redisTlsArgs(pki, tlsPort, 'no') })]);
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([mq?.destroy(), rd?.destroy()]);
    pki?.destroy();
  });

  it('warns once at start through the one TLS warning (naming the key), and writes over TLS despite the unknown CA', async () => {
    gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_ENABLED: 'false',
        EDGEBRIDGE_REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        EDGEBRIDGE_REDIS_TLS_CA_FILE: pki.otherCaFile,
        EDGEBRIDGE_REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
        EDGEBRIDGE_REDIS_BATCH_FLUSH_INTERVAL_MS: '100',
      },
    });
    const warnings = gw.logs().filter((l) => l.level === 'warn' && /verification/i.test(String(l.msg)));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]!.key, 'sinks.redis.tls.rejectUnauthorized');
    assert.match(String(warnings[0]!.msg), /TLS certificate verification is off for sink redis/);
    const pub = await connectPublisher(mq.url);
    const plain = new Redis(rd.url);
    try {
      await waitFor(async () => (await gw!.status()).mqtt.connected, { timeoutMs: 10_000 });
      await pub.publish('sensors/tlsdev/climate', JSON.stringify({ t: 21.5 }), 1);
      await waitFor(async () => (await plain.hget('eb:latest:{tlsdev}:climate', 't')) === '21.5', { timeoutMs: 10_000 });
      assert.equal((await gw.sink('redis')).pointsWritten, 1);
    } finally {
      plain.disconnect();
      await pub.end(true);
    }
  });
});
