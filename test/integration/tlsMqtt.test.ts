import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { connectPublisher, createTestPki, startMosquitto, startVictoriaMetrics, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, MosquittoOptions, TestPki, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * MQTT over TLS (mqtts://) against real Mosquitto TLS listeners, with certificates made by openssl for this run.
 * Data lands in a real VictoriaMetrics; Redis is off (its TLS is tested with the Redis sink).
 */
describe('MQTT over TLS and broker auth on real Mosquitto listeners', () => {
  let pki: TestPki;
  let vm: VictoriaMetricsHandle;
  const brokers: MosquittoHandle[] = [];
  const gateways: GatewayProcess[] = [];

  before(async () => {
    pki = createTestPki({ clientName: 'gw-cert-user' });
    vm = await startVictoriaMetrics();
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all([...brokers.map((b) => b.destroy()), vm?.destroy()]);
    pki?.destroy();
  });

  const broker = async (opts: MosquittoOptions): Promise<MosquittoHandle> => {
    const b = await startMosquitto(opts);
    brokers.push(b);
    return b;
  };
  const tlsListener = (extra: Partial<NonNullable<MosquittoOptions['tls']>> = {}): NonNullable<MosquittoOptions['tls']> => ({
    caFile: pki.caFile,
    certFile: pki.server.cert,
    keyFile: pki.server.key,
    ...extra,
  });
  const gateway = async (env: Record<string, string>, waitUntil: 'ready' | 'alive' = 'ready'): Promise<GatewayProcess> => {
    const g = await GatewayProcess.start({
      env: { EDGEBRIDGE_INFLUX_URL: vm.url, EDGEBRIDGE_REDIS_ENABLED: 'false', EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200', ...env },
      waitUntil,
    });
    gateways.push(g);
    return g;
  };
  const stop = async (g: GatewayProcess): Promise<void> => {
    const exit = await g.stop();
    assert.equal(exit.code, 0);
  };
  /** Publishes to the broker (as a client it accepts) and waits until the point is in VictoriaMetrics. */
  const landsEndToEnd = async (url: string, device: string, clientOptions: Record<string, unknown>): Promise<void> => {
    const pub = await connectPublisher(url, { ca: fs.readFileSync(pki.caFile), ...clientOptions });
    try {
      await pub.publish(`sensors/${device}/climate`, '{"t":21.5}', 1);
      await vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === device), 10_000);
    } finally {
      await pub.end(true);
    }
  };
  const clientCert = () => ({ cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) });
  /** /readyz answers 503 with a problem matching `pattern`; returns the problems. */
  const notReadyBecause = async (g: GatewayProcess, pattern: RegExp): Promise<string[]> =>
    waitFor(
      async () => {
        const res = await g.get('/readyz');
        const body = (await res.json()) as { ready: boolean; problems: string[] };
        return res.status === 503 && body.problems.some((p) => pattern.test(p)) ? body.problems : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, message: () => `readyz never named ${pattern}; log: ${g.stdout.slice(-2000)}` },
    );
  const logged = (g: GatewayProcess, msg: string, pattern: RegExp): boolean =>
    g.logs().some((l) => l.msg === msg && pattern.test(String(l.err ?? '')));

  it('over WebSockets (ws://, Mosquitto `protocol websockets`) the gateway connects and data lands end to end', async () => {
    const mq = await broker({ websockets: true });
    assert.match(mq.url, /^ws:\/\//);
    const g = await gateway({ EDGEBRIDGE_MQTT_URL: mq.url });
    await landsEndToEnd(mq.url, 'ws-ok', {});
    await stop(g);
  });

  it('over WebSockets with TLS (wss://) and the right CA data lands; with the wrong CA it is refused', async () => {
    const mq = await broker({ websockets: true, tls: tlsListener() });
    assert.match(mq.url, /^wss:\/\//);
    const g = await gateway({ EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile });
    await landsEndToEnd(mq.url, 'wss-ok', {});
    await stop(g);
    const wrong = await gateway({ EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.otherCaFile }, 'alive');
    await notReadyBecause(wrong, /mqtt/);
    await stop(wrong);
  });

  it('with the right CA the gateway connects over mqtts:// and data lands end to end', async () => {
    const mq = await broker({ tls: tlsListener() });
    assert.match(mq.url, /^mqtts:\/\//);
    const g = await gateway({ EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile });
    await landsEndToEnd(mq.url, 'tls-ok', {});
    assert.equal((await g.status()).mqtt.connected, true);
    assert.ok(!g.logs().some((l) => l.level === 'warn' && /verification is off/.test(String(l.msg))), 'no insecure-TLS warning');
    await stop(g);
  });

  it('with the wrong CA the broker is refused: a clear error in the log and in /readyz, nothing acknowledged', async (t) => {
    const mq = await broker({ tls: tlsListener() });
    const g = await gateway({ EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.otherCaFile }, 'alive');
    const problems = await notReadyBecause(g, /TLS: server certificate not accepted/);
    const problem = problems.find((p) => p.startsWith('mqtt:'))!;
    t.diagnostic(`readyz: ${problem}`);
    assert.match(problem, /mqtt: not connected \(TLS: server certificate not accepted \(\w+: .+\); check mqtt\.tls\.caFile/);
    await waitFor(() => logged(g, 'mqtt error', /TLS: server certificate not accepted/), { timeoutMs: 5000 });
    assert.equal((await g.status()).mqtt.connected, false);
    await stop(g);
  });

  it('rejectUnauthorized=false connects despite an untrusted certificate, and warns on every start', async () => {
    const mq = await broker({ tls: tlsListener() });
    const env = {
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.otherCaFile,
      EDGEBRIDGE_MQTT_TLS_REJECT_UNAUTHORIZED: 'false',
    };
    for (const run of [1, 2]) {
      const g = await gateway(env);
      const warnings = g.logs().filter((l) => l.level === 'warn' && l.key === 'mqtt.tls.rejectUnauthorized');
      assert.equal(warnings.length, 1, `start ${run} warns once`);
      assert.match(String(warnings[0]!.msg), /TLS certificate verification is off for mqtt/);
      await landsEndToEnd(mq.url, `tls-insecure-${run}`, {});
      await stop(g);
    }
  });

  it('client-certificate auth (require_certificate, use_identity_as_username): with the certificate it lands, without it is refused', async (t) => {
    const mq = await broker({ tls: tlsListener({ requireCertificate: true, useIdentityAsUsername: true }) });
    const without = await gateway({ EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile }, 'alive');
    const problems = await notReadyBecause(without, /mqtt: not connected \(TLS: the server refused the handshake .*mqtt\.tls\.certFile/);
    assert.ok(
      problems.some((p) => /mqtt: not connected \(.+\)/.test(p)),
      `a reason is given: ${problems.join('; ')}`,
    );
    t.diagnostic(`readyz without a client certificate: ${problems.join('; ')}`);
    assert.equal((await without.status()).messages.received, 0);
    await stop(without);

    const g = await gateway({
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile,
      EDGEBRIDGE_MQTT_TLS_CERT_FILE: pki.client.cert,
      EDGEBRIDGE_MQTT_TLS_KEY_FILE: pki.client.key,
    });
    await landsEndToEnd(mq.url, 'tls-client-cert', clientCert());
    await stop(g);
    // Mosquitto took the certificate's CN as the user name of the gateway's session (its log is flushed on exit).
    await mq.stop();
    assert.match(fs.readFileSync(mq.process.logFile, 'utf8'), /as edgebridge-gw-test .*u'gw-cert-user'/);
  });

  it('username/password against a Mosquitto password file: the right password lands, a wrong one is refused', async (t) => {
    const mq = await broker({ tls: tlsListener(), users: { 'edge-gw': 'right-horse-battery', publisher: 'pub-pass' } });
    const base = { EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile, EDGEBRIDGE_MQTT_USERNAME: 'edge-gw' };
    const g = await gateway({ ...base, EDGEBRIDGE_MQTT_PASSWORD: 'right-horse-battery' });
    await landsEndToEnd(mq.url, 'tls-password', { username: 'publisher', password: 'pub-pass' });
    await stop(g);

    const wrong = await gateway({ ...base, EDGEBRIDGE_MQTT_PASSWORD: 'wrong-staple' }, 'alive');
    const problems = await notReadyBecause(wrong, /mqtt: not connected \(.*(Not authorized|Bad User Name or Password)/i);
    assert.ok(!problems.join('\n').includes('wrong-staple'));
    t.diagnostic(`readyz with a wrong password: ${problems.join('; ')}`);
    assert.ok(!wrong.stdout.includes('wrong-staple') && !wrong.stderr.includes('wrong-staple'), 'the password is never logged');
    await stop(wrong);
  });
});
