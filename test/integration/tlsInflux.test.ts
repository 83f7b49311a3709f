import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectPublisher, createTestPki, startMosquitto, startTokenProxy, startVictoriaMetrics, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher, TestPki, TokenProxy, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

const TOKEN = 'influx-tok-7d1e0c55';

/**
 * InfluxDB over HTTPS with a token and a private CA: VictoriaMetrics behind an HTTPS front (startTokenProxy) that
 * checks `Authorization: Token …` — VictoriaMetrics itself ignores the header.
 */
describe('InfluxDB over HTTPS with a token and a custom CA', () => {
  let pki: TestPki;
  let vm: VictoriaMetricsHandle;
  let proxy: TokenProxy;
  let mq: MosquittoHandle;
  let pub: Publisher;
  const gateways: GatewayProcess[] = [];

  before(async () => {
    pki = createTestPki();
    [vm, mq] = await Promise.all([startVictoriaMetrics(), startMosquitto()]);
    proxy = await startTokenProxy({ target: vm.url, token: TOKEN, certFile: pki.server.cert, keyFile: pki.server.key });
    pub = await connectPublisher(mq.url);
  });

  after(async () => {
    await pub?.end(true);
    await Promise.all(gateways.map((g) => g.stop()));
    await proxy?.close();
    await Promise.all([mq?.destroy(), vm?.destroy()]);
    pki?.destroy();
  });

  const gateway = async (env: Record<string, string>): Promise<GatewayProcess> => {
    const g = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_REDIS_ENABLED: 'false',
        EDGEBRIDGE_INFLUX_URL: proxy.url,
        EDGEBRIDGE_INFLUX_TOKEN: TOKEN,
        EDGEBRIDGE_INFLUX_TLS_CA_FILE: pki.caFile,
        EDGEBRIDGE_INFLUX_BATCH_FLUSH_INTERVAL_MS: '100',
        EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_INITIAL_MS: '200',
        EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_MAX_MS: '1000',
        EDGEBRIDGE_INFLUX_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS: '1000',
        // Stopping with a backlog that cannot be written waits this long for it.
        EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '1000',
        ...env,
      },
    });
    gateways.push(g);
    return g;
  };
  const stop = async (g: GatewayProcess): Promise<void> => assert.equal((await g.stop()).code, 0);
  const publish = async (device: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await pub.publish(`sensors/${device}/climate`, JSON.stringify({ t: i }), 1);
  };
  const landed = (device: string, n: number) =>
    vm.waitForSeries('climate_t', (s) => s.find((x) => x.metric.device === device)?.values.length === n, 10_000);
  const neverLeaksToken = (g: GatewayProcess, bodies: string[] = []): void => {
    for (const text of [g.stdout, g.stderr, ...bodies]) assert.ok(!text.includes(TOKEN), 'the token never appears');
  };

  it('with the right CA and token the points land over https://', async () => {
    const g = await gateway({});
    const before = proxy.accepted;
    await publish('https-ok', 3);
    await landed('https-ok', 3);
    assert.ok(proxy.accepted > before, 'the write went through the token-checking HTTPS front');
    const sink = await g.sink('influx');
    assert.equal(sink.pointsWritten, 3);
    assert.equal(sink.lastError, null);
    neverLeaksToken(g, [JSON.stringify(await g.status())]);
    await stop(g);
  });

  it('with the wrong CA the batch stays in the spool (a transport error, retried) with a clear error in /status; it lands once the CA is fixed', async (t) => {
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-spool-'));
    const g = await gateway({ EDGEBRIDGE_SPOOL_DIR: spoolDir, EDGEBRIDGE_INFLUX_TLS_CA_FILE: pki.otherCaFile });
    await publish('https-wrong-ca', 4);
    const sink = await waitFor(
      async () => {
        const s = await g.sink('influx');
        return s.lastError !== null ? s : undefined;
      },
      { timeoutMs: 15_000, message: () => `no TLS error in /status; log: ${g.stdout.slice(-2000)}` },
    );
    t.diagnostic(`status lastError: ${sink.lastError!.kind}: ${sink.lastError!.message}`);
    assert.equal(sink.lastError!.kind, 'unavailable');
    assert.match(sink.lastError!.message, /TLS: server certificate not accepted \([A-Z_]+: .+\); check sinks\.influx\.tls\.caFile/);
    assert.equal(sink.pointsRejected, 0, 'never rejected');
    assert.equal(sink.pointsWritten, 0);
    assert.equal(sink.backlog.points, 4, 'kept in the spool');
    await stop(g);

    // Same spool, right CA: the kept batch is written.
    const fixed = await gateway({ EDGEBRIDGE_SPOOL_DIR: spoolDir });
    await landed('https-wrong-ca', 4);
    await waitFor(async () => (await fixed.sink('influx')).backlog.points === 0, { timeoutMs: 10_000 });
    await stop(fixed);
  });

  it('a wrong token gets 401: kept and retried as an auth problem (breaker, /readyz), never rejected, never logged', async (t) => {
    const g = await gateway({ EDGEBRIDGE_INFLUX_TOKEN: 'not-the-token' });
    const refusedBefore = proxy.refused;
    await publish('https-bad-token', 2);
    const sink = await waitFor(
      async () => {
        const s = await g.sink('influx');
        return s.lastError?.kind === 'auth' ? s : undefined;
      },
      { timeoutMs: 15_000, message: () => `no auth error in /status; log: ${g.stdout.slice(-2000)}` },
    );
    t.diagnostic(`status lastError: ${sink.lastError!.kind}: ${sink.lastError!.message}`);
    assert.match(sink.lastError!.message, /InfluxDB answered 401/);
    assert.ok(proxy.refused > refusedBefore);
    assert.equal(sink.pointsRejected, 0);
    assert.equal(sink.backlog.points, 2);
    const readyz = await waitFor(
      async () => {
        const r = (await (await g.get('/readyz')).json()) as { ready: boolean; problems: string[] };
        return r.ready ? undefined : r;
      },
      { timeoutMs: 15_000 },
    );
    assert.ok(
      readyz.problems.some((p) => /sink influx: circuit breaker open: auth: InfluxDB answered 401/.test(p)),
      readyz.problems.join('; '),
    );
    const bodies = [JSON.stringify(await g.status()), JSON.stringify(readyz)];
    for (const text of [g.stdout, g.stderr, ...bodies]) assert.ok(!text.includes('not-the-token'), 'the wrong token is not shown either');
    await stop(g);
  });

  it('rejectUnauthorized=false accepts an untrusted certificate and warns on start', async () => {
    const g = await gateway({ EDGEBRIDGE_INFLUX_TLS_CA_FILE: pki.otherCaFile, EDGEBRIDGE_INFLUX_TLS_REJECT_UNAUTHORIZED: 'false' });
    const warning = g.logs().find((l) => l.level === 'warn' && l.key === 'sinks.influx.tls.rejectUnauthorized');
    assert.match(String(warning?.msg), /TLS certificate verification is off for sink influx/);
    await publish('https-insecure', 1);
    await landed('https-insecure', 1);
    neverLeaksToken(g);
    await stop(g);
  });
});
