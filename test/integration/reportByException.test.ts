import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * Report by exception on the real servers through the gateway process: a route's deadband thins the InfluxDB
 * history (VictoriaMetrics here) while Redis gets every value (its latest value stays exact); the counters are in
 * /metrics; a reload with a changed deadband applies it (the state starts afresh, the counters go on).
 */
const ROUTE = 'sensors/{device}/{measurement}';
const configWith = (absolute: number) => ({ routes: [{ topic: ROUTE, deadband: { absolute, sinks: ['influx'] } }] });

describe('report by exception end to end', () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let pub: Publisher;
  let redis: Redis;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-rbe-it-'));
  const file = path.join(dir, 'edgebridge.json');
  const t0 = Date.now() - 120_000;

  before(async () => {
    servers = await startServers();
    fs.writeFileSync(file, JSON.stringify(configWith(0.5)));
    gw = await GatewayProcess.start({ env: { ...servers.env, EDGEBRIDGE_GATEWAY_ID: 'gw1' }, args: ['--config', file] });
    pub = await connectPublisher(servers.mq.url);
    redis = new Redis(servers.rd.url);
  });

  after(async () => {
    await pub?.end(true);
    redis?.disconnect();
    const exit = await gw?.stop();
    assert.equal(exit?.code, 0, 'SIGTERM exits 0');
    await servers?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes t values for device `dev`, one second apart from `from` (s after t0), QoS 1, in order. */
  async function publish(dev: string, values: number[], from: number): Promise<void> {
    for (let i = 0; i < values.length; i++) {
      await pub.publish(`sensors/${dev}/climate`, JSON.stringify({ t: values[i], ts: t0 + (from + i) * 1000 }), 1);
    }
  }

  /** Every entry before it has reached VictoriaMetrics once a marker published after it has (one ordered cursor per sink). */
  async function drained(marker: string): Promise<void> {
    await publish(marker, [1], 0);
    await servers.vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === marker), 10_000);
  }

  const suppressed = async () => {
    const text = await (await gw.get('/metrics')).text();
    const m = /edgebridge_points_suppressed_total\{route="sensors\/\{device\}\/\{measurement\}",sink="influx"\} (\d+)/.exec(text);
    return { text, influx: m === null ? undefined : Number(m[1]) };
  };

  it('InfluxDB gets the exceptions only, Redis every value; the held-back values are counted', async () => {
    await publish('rbe1', [20, 20.1, 20.2, 20.3, 21, 21.1], 0);
    await waitFor(async () => (await redis.xlen('eb:stream:{climate}')) === 6, { timeoutMs: 10_000 });
    await drained('marker1');
    const series = await servers.vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === 'rbe1'), 5000);
    const rbe1 = series.find((x) => x.metric.device === 'rbe1')!;
    assert.deepEqual(rbe1.values, [20, 21], 'thinned: the first value and the change beyond 0.5');
    assert.deepEqual(rbe1.timestamps, [t0, t0 + 4000]);
    assert.equal(await redis.hget('eb:latest:{rbe1}:climate', 't'), '21.1', 'Redis holds the exact latest value');
    assert.equal(await redis.hget('eb:latest:{rbe1}:climate:ts', 't'), String(t0 + 5000));
    const { text, influx } = await suppressed();
    assert.equal(influx, 4, text);
    assert.doesNotMatch(text, /edgebridge_points_suppressed_total\{[^}]*sink="redis"/);
    assert.match(text, /edgebridge_deadband_evictions_total\{route="sensors\/\{device\}\/\{measurement\}"\} 0/);
    assert.match(text, /edgebridge_deadband_series\{route="sensors\/\{device\}\/\{measurement\}"\} 2/); // rbe1 and marker1
    const status = await gw.status();
    assert.equal(status.messages.rejected, 0);
  });

  it('a reload with a changed deadband applies it: the state starts afresh, the counters go on', async () => {
    fs.writeFileSync(file, JSON.stringify(configWith(0.05)));
    gw.signal('SIGHUP');
    await waitFor(async () => ((await (await gw.get('/status')).json()) as { config: { generation: number } }).config.generation === 2, {
      timeoutMs: 10_000,
    });
    // 21.2 is within 0.5 of 21 but the state is new: written as a first value; 21.22 is within 0.05; 21.3 is not.
    await publish('rbe1', [21.2, 21.22, 21.3], 10);
    await waitFor(async () => (await redis.hget('eb:latest:{rbe1}:climate', 't')) === '21.3', { timeoutMs: 10_000 });
    await drained('marker2');
    const series = await servers.vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === 'rbe1'), 5000);
    assert.deepEqual(series.find((x) => x.metric.device === 'rbe1')!.values, [20, 21, 21.2, 21.3]);
    assert.equal((await suppressed()).influx, 5);
  });
});
