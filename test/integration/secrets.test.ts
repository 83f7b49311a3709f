import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import {
  connectPublisher,
  createTestPki,
  freePort,
  startMosquitto,
  startRedis,
  startTokenProxy,
  startVictoriaMetrics,
  waitFor,
} from '../harness/index.ts';
import type { MosquittoHandle, RedisHandle, TestPki, TokenProxy, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/** Every secret the run configures; none may appear in any log line or response. */
const SECRETS = {
  // ':', '@', '/', '%' and a space: percent-encoded in the MQTT URL (mqtts://user:password@host).
  mqttPassword: 'Mq@7r:Q2/x9%L k',
  influxToken: 'Vb83nWq1xT0pZ', // EDGEBRIDGE_INFLUX_TOKEN_FILE
  redisPassword: 'Ht5cZ0mAr7Ke', // EDGEBRIDGE_REDIS_PASSWORD (env)
  httpToken: 'Pn4sE6yDq2Wb', // EDGEBRIDGE_HTTP_TOKEN_FILE
  deadRedisPassword: 'Jw2kU8fRc5Nh', // in the URL of a Redis sink nobody answers
  deadInfluxPassword: 'Mz9tG3vXp1Ld', // in the URL of an InfluxDB sink nobody answers
  deadInfluxToken: 'Ls6hB1nCw8Qe', // that sink's token, from the config file
};

/**
 * The forms a secret could leak in: as is, URL-encoded, base64 (a Basic auth header) — and every 6-character
 * piece of each, so a half-masked secret (`user:[redacted]@rest-of-password@host`) is caught too.
 */
function forms(secret: string): string[] {
  const whole = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
  const pieces = whole.flatMap((w) => Array.from({ length: Math.max(0, w.length - 5) }, (_, i) => w.slice(i, i + 6)));
  return [...new Set([...whole, ...pieces])];
}

/** Lines of the outputs holding any form of the secret. */
function leaksFound(secret: string, outputs: readonly { what: string; text: string }[]): string[] {
  const found: string[] = [];
  for (const form of forms(secret)) {
    for (const { what, text } of outputs) {
      for (const line of text.split('\n')) if (line.includes(form)) found.push(`in ${what}: ${line.slice(0, 300)}`);
    }
  }
  return found;
}

/**
 * A full gateway with every kind of secret, configured the three ways (env, `_FILE`, URL credentials), exercised
 * end to end and through failures; then every log line and every response body is searched for every secret.
 */
describe('secrets never leak: a full run, every log line and response searched', () => {
  let pki: TestPki;
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let vm: VictoriaMetricsHandle;
  let proxy: TokenProxy;
  let gw: GatewayProcess;
  let env: Record<string, string>;
  /** Everything a person or a probe could have seen. */
  const seen: { what: string; text: string }[] = [];
  const record = (what: string, text: string): string => {
    seen.push({ what, text });
    return text;
  };
  const authed = { headers: { authorization: `Bearer ${SECRETS.httpToken}` } };

  before(async () => {
    pki = createTestPki();
    [mq, rd, vm] = await Promise.all([
      startMosquitto({
        tls: { caFile: pki.caFile, certFile: pki.server.cert, keyFile: pki.server.key },
        users: { 'edge-gw': SECRETS.mqttPassword, publisher: 'publisher-pw' },
      }),
      startRedis(),
      startVictoriaMetrics(),
    ]);
    // The harness probes Redis with an unauthenticated PING: the password is set once it is up.
    const admin = new Redis(rd.url, { lazyConnect: true });
    await admin.connect();
    await admin.config('SET', 'requirepass', SECRETS.redisPassword);
    admin.disconnect();
    proxy = await startTokenProxy({ target: vm.url, token: SECRETS.influxToken, certFile: pki.server.cert, keyFile: pki.server.key });

    const dir = pki.dir;
    const influxTokenFile = path.join(dir, 'influx_token');
    const httpTokenFile = path.join(dir, 'http_token');
    fs.writeFileSync(influxTokenFile, `${SECRETS.influxToken}\n`);
    fs.writeFileSync(httpTokenFile, `${SECRETS.httpToken}\n`);
    const [deadRedisPort, deadInfluxPort] = await Promise.all([freePort(), freePort()]);
    const configFile = path.join(dir, 'edgebridge.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        sinks: {
          extra: [
            { name: 'dead-redis', type: 'redis', url: `redis://:${SECRETS.deadRedisPassword}@127.0.0.1:${deadRedisPort}` },
            {
              name: 'dead-influx',
              type: 'influx',
              url: `http://admin:${SECRETS.deadInfluxPassword}@127.0.0.1:${deadInfluxPort}`,
              token: SECRETS.deadInfluxToken,
              // Was EDGEBRIDGE_SINK_DEAD_INFLUX_RESILIENCE_RETRY_INITIAL_MS, which no extra sink reads (now refused).
              resilience: { retryInitialMs: 200 },
            },
          ],
        },
      }),
    );
    // Credentials in a URL are percent-encoded (URL's password setter would leave the '%' bare).
    const mqttUrl = mq.url.replace('mqtts://', `mqtts://edge-gw:${encodeURIComponent(SECRETS.mqttPassword)}@`);
    env = {
      EDGEBRIDGE_CONFIG: configFile,
      EDGEBRIDGE_GATEWAY_ID: 'gw-secrets',
      EDGEBRIDGE_LOG_LEVEL: 'debug',
      EDGEBRIDGE_MQTT_URL: mqttUrl,
      EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile,
      EDGEBRIDGE_INFLUX_URL: proxy.url,
      EDGEBRIDGE_INFLUX_TLS_CA_FILE: pki.caFile,
      EDGEBRIDGE_INFLUX_TOKEN_FILE: influxTokenFile,
      EDGEBRIDGE_REDIS_URL: rd.url,
      EDGEBRIDGE_REDIS_PASSWORD: SECRETS.redisPassword,
      EDGEBRIDGE_HTTP_TOKEN_FILE: httpTokenFile,
      EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '1000',
    };
    // The dead sinks open their breakers: /readyz is 503 by design, so wait for liveness only.
    gw = await GatewayProcess.start({ env, waitUntil: 'alive' });
  });

  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await Promise.all([mq?.destroy(), rd?.destroy(), vm?.destroy()]);
    pki?.destroy();
  });

  it('messages land in InfluxDB (token over HTTPS) and Redis (password), through an authenticated TLS broker', async () => {
    const pub = await connectPublisher(mq.url, { ca: fs.readFileSync(pki.caFile), username: 'publisher', password: 'publisher-pw' });
    try {
      await pub.publish('sensors/sec1/climate', '{"t":7.5}', 1);
    } finally {
      await pub.end(true);
    }
    const redis = new Redis(rd.url, { password: SECRETS.redisPassword });
    try {
      await Promise.all([
        vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === 'sec1'), 10_000),
        waitFor(async () => (await redis.hget('eb:latest:{sec1}:climate', 't')) === '7.5', { timeoutMs: 10_000 }),
      ]);
    } finally {
      redis.disconnect();
    }
    assert.ok(proxy.accepted >= 1 && proxy.refused === 0, 'the token was sent and accepted');
  });

  it('the failing sinks (credentials in their URLs) report errors in /status, /readyz and the log', async (t) => {
    const refused = await gw.get('/status');
    assert.equal(refused.status, 401, '/status needs the bearer token');
    record('/status 401', await refused.text());
    const sinks = await waitFor(
      async () => {
        const body = record('/status', await (await gw.get('/status', authed)).text());
        const s = JSON.parse(body) as { sinks: { name: string; lastError: { message: string } | null; breaker: string }[] };
        const dead = s.sinks.filter((x) => x.name.startsWith('dead-'));
        return dead.every((x) => x.lastError !== null && x.breaker === 'open') ? dead : undefined;
      },
      { timeoutMs: 20_000, message: () => `dead sinks never failed; log: ${gw.stdout.slice(-2000)}` },
    );
    assert.equal(sinks.length, 2);
    for (const sink of sinks) t.diagnostic(`${sink.name}: ${sink.lastError!.message}`);
    assert.ok(
      gw.logs().some((l) => l.sink === 'dead-redis' && l.level === 'warn'),
      'the failing Redis sink is in the log',
    );
    const readyz = record('/readyz', await (await gw.get('/readyz')).text());
    assert.match(readyz, /sink dead-redis: circuit breaker open/);
    assert.match(readyz, /sink dead-influx: circuit breaker open/);
  });

  it('/metrics, /healthz, 401s and errors answer without secrets', async () => {
    const metrics = await gw.get('/metrics', authed);
    assert.equal(metrics.status, 200);
    record('/metrics', await metrics.text());
    record('/healthz', await (await gw.get('/healthz')).text());
    const unauthorized = await gw.get('/metrics', { headers: { authorization: 'Bearer wrong' } });
    assert.equal(unauthorized.status, 401);
    record('/metrics 401', await unauthorized.text());
    record('/nope', await (await gw.get('/nope', authed)).text());
    record('POST /status', await (await gw.get('/status', { method: 'POST', body: SECRETS.httpToken.replace(/./g, 'x') })).text());
  });

  it('print-config and check-config show where secrets come from, never what they are', async () => {
    for (const command of ['print-config', 'check-config']) {
      const run = await GatewayProcess.run([command], env);
      assert.equal(run.code, 0, run.stderr);
      record(`${command} stdout`, run.stdout);
      record(`${command} stderr`, run.stderr);
    }
    const printed = seen.find((s) => s.what === 'print-config stdout')!.text;
    assert.match(printed, /"password": "\[redacted\]"/);
    assert.match(printed, /mqtts:\/\/edge-gw:\[redacted\]@127\.0\.0\.1/);
  });

  it('config errors about secret-bearing URLs do not show the secret', async (t) => {
    const cases: Record<string, string>[] = [
      // Not a URL at all (port out of range), with the password inside.
      { EDGEBRIDGE_MQTT_URL: `mqtts://edge-gw:${SECRETS.mqttPassword}@127.0.0.1:999999` },
      // A bare '%' in the password: the URL parses, the MQTT client's decoder would throw at connect.
      { EDGEBRIDGE_MQTT_URL: `mqtts://edge-gw:${SECRETS.mqttPassword.replace(/[ /]/g, '')}@127.0.0.1:8883` },
      // A raw '@' in the password is a valid URL (the last '@' ends the user info): it fails later, on TLS settings.
      { EDGEBRIDGE_MQTT_URL: `mqtt://edge-gw:${encodeURIComponent(SECRETS.mqttPassword).replace('%40', '@')}@127.0.0.1:1884` },
      // The wrong scheme for the key.
      { EDGEBRIDGE_REDIS_URL: `http://:${SECRETS.redisPassword}@127.0.0.1:6390` },
      // The raw password (with '/' and a space) pasted into a URL: not a URL at all.
      { EDGEBRIDGE_MQTT_URL: `mqtt://edge-gw:${SECRETS.mqttPassword}@127.0.0.1:1884` },
    ];
    for (const override of cases) {
      const run = await GatewayProcess.run(['check-config'], { ...env, ...override });
      assert.equal(run.code, 78, `exit 78 for ${Object.keys(override)[0]}: ${run.stderr}`);
      assert.match(run.stderr, /configuration error: config key "[^"]+"/);
      record(`config error ${JSON.stringify(Object.keys(override))} stderr`, run.stderr);
      t.diagnostic(run.stderr.trim());
      record(`config error ${JSON.stringify(Object.keys(override))} stdout`, run.stdout);
    }
    // The same failure from the daemon itself: it logs and exits 78.
    const daemon = await GatewayProcess.run([], { ...env, ...cases[0] });
    assert.equal(daemon.code, 78);
    record('daemon config error stdout', daemon.stdout);
    record('daemon config error stderr', daemon.stderr);
  });

  it('no secret in any log line (debug level, including shutdown) or any response', async (t) => {
    const exit = await gw.stop();
    assert.equal(exit.code, 0);
    record('gateway stdout (log)', gw.stdout);
    record('gateway stderr', gw.stderr);
    assert.ok(gw.logs().length > 10, 'the log has lines to search');
    // The search can only pass for the right reason if the places a secret would be are in the log, masked.
    assert.ok(
      gw.logs().some((l) => l.msg === 'mqtt connected' && /^mqtts:\/\/edge-gw:\[redacted\]@127\.0\.0\.1:\d+\/?$/.test(String(l.url))),
    );
    assert.ok(
      leaksFound('pl@nted-X7', [{ what: 'self-test', text: 'a\nb x:[redacted]@nted-X7@host c' }]).length > 0,
      'the search finds a planted secret',
    );
    const leaks = Object.entries(SECRETS).flatMap(([name, secret]) => leaksFound(secret, seen).map((l) => `${name} ${l}`));
    t.diagnostic(
      `searched ${seen.length} outputs, ${seen.reduce((n, s) => n + s.text.split('\n').length, 0)} lines, for ${Object.keys(SECRETS).length} secrets`,
    );
    assert.deepEqual(leaks, []);
  });
});
