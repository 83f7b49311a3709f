import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startServers, startVictoriaMetrics, connectPublisher, waitFor } from '../harness/index.ts';
import type { Publisher, Servers, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';
import { SequencedLoad, missing } from './support/sequencedLoad.ts';

/**
 * Reload without a restart, under load: QoS 1 messages flow while the gateway is sent SIGHUP again and again, each
 * time with a changed route, batch settings or log level (in turn). Every sequence number must be in both sinks
 * exactly once, the MQTT session must never be dropped (one connect), and every reload must be applied. A third
 * sink (another VictoriaMetrics) is added at the reload ADD_AT and removed at REMOVE_AT: it must hold one unbroken
 * run of seqs, each once (it starts at the spool's tail; what it had not written at its removal is dropped for it).
 * `EDGEBRIDGE_TEST_RELOADS` sets the count (default 20).
 */
const RELOADS = Number(process.env.EDGEBRIDGE_TEST_RELOADS ?? 20);
const MEASUREMENT = 'reloadseq';
const ADD_AT = Math.max(1, Math.floor(RELOADS / 2));
const REMOVE_AT = Math.max(ADD_AT + 1, Math.floor((RELOADS * 3) / 4));

interface ConfigStatus {
  config: { generation: number; source: string; lastReloadError: { message: string } | null };
}

/** The n-th configuration: route tags, batch settings and log level change in turn. */
function configFor(n: number, thirdUrl: string): unknown {
  const route = Math.floor((n + 2) / 3) % 2; // changes at reloads 1, 4, 7, …
  const batch = Math.floor((n + 1) / 3) % 2; // changes at reloads 2, 5, 8, …
  const level = Math.floor(n / 3) % 2; // changes at reloads 3, 6, 9, …
  const sinkBatch = batch === 0 ? { maxPoints: 500, flushIntervalMs: 200 } : { maxPoints: 7, flushIntervalMs: 50 };
  return {
    log: { level: level === 0 ? 'info' : 'warn' },
    // With the extra route comes its subscription; both go again at the next route change.
    mqtt: { subscriptions: [{ topic: 'sensors/#', qos: 1 }, ...(route === 1 ? [{ topic: 'other/#', qos: 1 }] : [])] },
    routes: [
      // A route of another topic before it, there or not: the router is rebuilt either way.
      ...(route === 1 ? [{ topic: 'other/{device}/{measurement}', format: 'number', measurement: 'other' }] : []),
      { topic: 'sensors/{device}/{measurement}', tags: { device: '{device}', route: `r${route}` } },
    ],
    sinks: {
      influx: { batch: sinkBatch },
      redis: { batch: sinkBatch },
      extra: n >= ADD_AT && n < REMOVE_AT ? [{ name: 'third', type: 'influx', url: thirdUrl, batch: sinkBatch }] : [],
    },
  };
}

describe(`reload: ${RELOADS} SIGHUPs under QoS 1 load`, () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let pub: Publisher;
  let redis: Redis;
  let third: VictoriaMetricsHandle;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-reload-it-'));
  const file = path.join(dir, 'edgebridge.json');

  before(async () => {
    [servers, third] = await Promise.all([startServers(), startVictoriaMetrics()]);
    fs.writeFileSync(file, JSON.stringify(configFor(0, third.url)));
    gw = await GatewayProcess.start({
      // The log level comes from the file, not the harness's env default (env wins over the file).
      env: { ...servers.env, EDGEBRIDGE_LOG_LEVEL: undefined as unknown as string },
      args: ['--config', file],
    });
    pub = await connectPublisher(servers.mq.url);
    redis = new Redis(servers.rd.url);
  });

  after(async () => {
    await pub?.end(true);
    redis?.disconnect();
    await gw?.stop();
    await Promise.all([servers?.destroy(), third?.destroy()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every seq lands in both sinks exactly once; the session and the cursors survive every reload', async (t: TestContext) => {
    const status = async (): Promise<ConfigStatus> => (await gw.status()) as unknown as ConfigStatus;
    assert.equal((await status()).config.generation, 1);
    const load = new SequencedLoad(pub, { devices: 5, intervalMs: 2, measurement: MEASUREMENT });
    load.start();
    await waitFor(async () => (await gw.sink('influx')).pointsWritten > 50, { timeoutMs: 10_000 });

    const reloadMs: number[] = [];
    for (let n = 1; n <= RELOADS; n++) {
      if (n === 3) {
        // A broken file on the way: refused with check-config's message, nothing changes, the load goes on.
        fs.writeFileSync(file, JSON.stringify({ routes: [{ topic: 'sensors/{device}/{measurement}', format: 'xml' }] }));
        gw.signal('SIGHUP');
        await waitFor(async () => (await status()).config.lastReloadError !== null, { timeoutMs: 10_000 });
        const refused = (await status()).config;
        assert.equal(refused.generation, n, 'the refused reload changed nothing');
        assert.match(refused.lastReloadError!.message, /^configuration error: config key "routes\[0\]\.format"/);
      }
      fs.writeFileSync(file, JSON.stringify(configFor(n, third.url)));
      const started = Date.now();
      gw.signal('SIGHUP');
      await waitFor(async () => (await status()).config.generation === n + 1, {
        timeoutMs: 10_000,
        message: () => `reload ${n} not applied: ${gw.stdout.slice(-2000)}`,
      });
      reloadMs.push(Date.now() - started);
      // Let some traffic pass under each configuration.
      await new Promise((r) => setTimeout(r, 250));
    }
    const sent = await load.stop();
    await waitFor(async () => (await gw.sink('influx')).backlog.points === 0 && (await gw.sink('redis')).backlog.points === 0, {
      timeoutMs: 20_000,
    });

    const st = await gw.status();
    assert.equal(st.messages.received, sent, 'the broker redelivered nothing (the session was never dropped)');
    assert.equal(st.mqtt.connects, 1, 'one MQTT connection from start to end');
    assert.equal(st.mqtt.disconnects, 0);
    const series = await servers.vm.waitForSeries(`${MEASUREMENT}_seq`, (s) => s.reduce((k, x) => k + x.values.length, 0) >= sent, 20_000);
    const inVm = series.flatMap((s) => s.values);
    const stream = await redis.xrange(`eb:stream:{${MEASUREMENT}}`, '-', '+');
    const inRedis = stream.map(([, f]) => Number(f[f.indexOf('seq') + 1]));
    await third.forceFlush();
    const inThird = (await third.exportSeries(`${MEASUREMENT}_seq`)).flatMap((x) => x.values);
    const lo = Math.min(...inThird);
    const hi = Math.max(...inThird);
    const thirdRun = inThird.length === 0 ? [] : Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    assert.deepEqual(
      missing(
        inThird.map((v) => v - lo),
        hi - lo + 1,
      ),
      [],
      `the third sink's seqs ${lo}..${hi} have no gap`,
    );
    const figures = {
      reloads: RELOADS,
      sent,
      influx: { points: inVm.length, distinct: new Set(inVm).size, missing: missing(inVm, sent).length },
      redis: { entries: inRedis.length, distinct: new Set(inRedis).size, missing: missing(inRedis, sent).length },
      third: { addedAt: ADD_AT, removedAt: REMOVE_AT, points: inThird.length, distinct: new Set(inThird).size, first: lo, last: hi },
      routeTags: [...new Set(series.map((s) => s.metric.route))].sort(),
      reloadMs: { median: reloadMs.sort((a, b) => a - b)[Math.floor(reloadMs.length / 2)], max: reloadMs.at(-1) },
    };
    t.diagnostic(`reload under load: ${JSON.stringify(figures)}`);
    assert.deepEqual(missing(inVm, sent), [], 'every seq is in VictoriaMetrics');
    assert.equal(inVm.length, sent, 'none twice in VictoriaMetrics');
    assert.deepEqual(missing(inRedis, sent), [], 'every seq is in the Redis stream');
    assert.equal(inRedis.length, sent, 'none twice in Redis');
    assert.deepEqual(figures.routeTags, ['r0', 'r1'], 'both route versions wrote points');
    for (const s of st.sinks) assert.equal(s.pointsDropped, 0, s.name);
    assert.deepEqual(
      st.sinks.map((s) => s.name),
      ['influx', 'redis'],
      'the third sink is gone again',
    );
    assert.deepEqual(missing(inThird, sent).length, sent - thirdRun.length, 'the third sink holds one unbroken run');
    assert.equal(inThird.length, thirdRun.length, 'none twice in the third sink');
    assert.ok(thirdRun.length > 0, 'the added sink received what came after it was added');
    const logs = gw.logs();
    assert.equal(logs.filter((l) => l.msg === 'reload refused: the running configuration goes on unchanged').length, 1);
    assert.equal((await status()).config.lastReloadError, null, 'cleared by the next applied reload');
    const unsubscribed = logs.filter((l) => String(l.msg).startsWith('reload: unsubscribing from a removed filter')).length;
    assert.ok(unsubscribed >= 1, 'a removed filter is unsubscribed, after a log line');
    assert.equal(
      logs.filter((l) => String(l.msg).startsWith('configuration reloaded')).length,
      RELOADS,
      'every applied reload is logged, also at log level warn',
    );
    const metrics = await (await gw.get('/metrics')).text();
    assert.match(metrics, new RegExp(`^edgebridge_config_reloads_total\\{result="applied"\\} ${RELOADS}$`, 'm'));
    assert.match(metrics, /^edgebridge_config_reloads_total\{result="invalid"\} 1$/m);
  });
});
