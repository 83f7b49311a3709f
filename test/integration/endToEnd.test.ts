import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, RedisHandle, VictoriaMetricsHandle, Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/** The latency claim natively; a gateway under qemu-user emulation (test:arm64) on a shared machine is slower. */
const WITHIN_MS = process.env.EDGEBRIDGE_TEST_NODE?.trim() ? 10_000 : 2000;
/** How long the other checks wait for data to land: no latency claim, only a limit on a hang (returns when it lands). */
const LANDS_MS = process.env.EDGEBRIDGE_TEST_NODE?.trim() ? 60_000 : 20_000;

const TOKEN = 'tok-3f9a1c77-secret';

describe('end to end on real servers, default config + env variables only', () => {
  let servers: Servers;
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let vm: VictoriaMetricsHandle;
  let gw: GatewayProcess;
  let pub: Publisher;
  let redis: Redis;

  before(async () => {
    servers = await startServers();
    ({ mq, rd, vm } = servers);
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_GATEWAY_ID: 'gw1',
        EDGEBRIDGE_INFLUX_TOKEN: TOKEN,
        EDGEBRIDGE_INFLUX_ORG: 'acme',
        EDGEBRIDGE_INFLUX_BUCKET: 'plant',
      },
    });
    pub = await connectPublisher(mq.url);
    redis = new Redis(rd.url);
  });

  after(async () => {
    await pub?.end(true);
    redis?.disconnect();
    const exit = await gw?.stop();
    assert.equal(exit?.code, 0, 'SIGTERM exits 0');
    await servers?.destroy();
  });

  it('publishing {"t":21.5,"h":40} to sensors/dev1/climate lands in VictoriaMetrics and Redis within 2 s (10 s under emulation)', async () => {
    const started = Date.now();
    await pub.publish('sensors/dev1/climate', '{"t":21.5,"h":40}', 1);
    const [series] = await Promise.all([
      vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === 'dev1'), WITHIN_MS),
      waitFor(async () => (await redis.hget('eb:latest:{dev1}:climate', 't')) === '21.5', { timeoutMs: WITHIN_MS }),
    ]);
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= WITHIN_MS, `landed in ${elapsed} ms`);
    const dev1 = series.find((s) => s.metric.device === 'dev1')!;
    assert.deepEqual(dev1.values, [21.5]);
    assert.equal(dev1.metric.gateway, 'gw1');
    assert.deepEqual(await redis.hgetall('eb:latest:{dev1}:climate'), { t: '21.5', h: '40' });
    const entries = await redis.xrange('eb:stream:{climate}', '-', '+');
    assert.equal(entries.length, 1);
    const fields = Object.fromEntries(chunk(entries[0]![1]));
    assert.equal(fields.device, 'dev1');
    assert.equal(fields.t, '21.5');
    assert.equal(fields.h, '40');
  });

  it('uses the payload time (ts, epoch ms) exactly, and values land exactly', async () => {
    const ts = Date.now() - 60_000;
    const values = [0.1, -40.25, 1e-7, 123456.789, 0];
    for (let i = 0; i < values.length; i++) {
      await pub.publish(`sensors/exact${i}/power`, JSON.stringify({ w: values[i], ts: ts + i, on: i % 2 === 0 }), 1);
    }
    const series = await vm.waitForSeries('power_w', (s) => s.length === values.length, LANDS_MS);
    for (let i = 0; i < values.length; i++) {
      const s = series.find((x) => x.metric.device === `exact${i}`)!;
      assert.deepEqual(s.values, [values[i]]);
      assert.deepEqual(s.timestamps, [ts + i]);
    }
    const on = await vm.waitForSeries('power_on', (s) => s.length === values.length, LANDS_MS);
    assert.deepEqual(on.find((x) => x.metric.device === 'exact0')!.values, [1]);
    await waitFor(async () => (await redis.hget('eb:latest:{exact3}:power', 'w')) === '123456.789', { timeoutMs: LANDS_MS });
    assert.equal(await redis.hget('eb:latest:{exact3}:power:ts', 'w'), String(ts + 3));
    assert.equal(await redis.hget('eb:latest:{exact1}:power', 'on'), 'false');
  });

  it('a value older than the one Redis holds does not overwrite it (newer wins)', async () => {
    const now = Date.now();
    await pub.publish('sensors/nw/climate', JSON.stringify({ t: 2, ts: now }), 1);
    await waitFor(async () => (await redis.hget('eb:latest:{nw}:climate', 't')) === '2', { timeoutMs: LANDS_MS });
    await pub.publish('sensors/nw/climate', JSON.stringify({ t: 1, ts: now - 1000 }), 1);
    await vm.waitForSeries('climate_t', (s) => (s.find((x) => x.metric.device === 'nw')?.values.length ?? 0) === 2, LANDS_MS);
    assert.equal(await redis.hget('eb:latest:{nw}:climate', 't'), '2');
  });

  it('counts unrouted and rejected messages by reason', async () => {
    await pub.publish('sensors/only-two-levels', '{"t":1}', 1);
    await pub.publish('sensors/bad/climate', '{not json', 1);
    await pub.publish('sensors/bad/climate', '[1,2]', 1);
    const status = await waitFor(
      async () => {
        const s = await gw.status();
        return s.messages.rejected >= 2 && s.messages.unrouted >= 1 ? s : undefined;
      },
      { timeoutMs: LANDS_MS },
    );
    assert.equal(status.messages.rejectedByReason.bad_json, 1);
    assert.equal(status.messages.rejectedByReason.not_object, 1);
    const metrics = await (await gw.get('/metrics')).text();
    assert.match(metrics, /edgebridge_messages_rejected_total\{reason="bad_json"\} 1/);
    assert.match(metrics, /edgebridge_messages_unrouted_total 1/);
  });

  it('health endpoints answer as documented, and no secret is ever in a response', async () => {
    const healthz = await gw.get('/healthz');
    assert.equal(healthz.status, 200);
    const readyz = await gw.get('/readyz');
    assert.equal(readyz.status, 200);
    assert.deepEqual(await readyz.json(), { ready: true, problems: [] });

    const metrics = await gw.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const text = await metrics.text();
    for (const name of [
      'edgebridge_messages_received_total',
      'edgebridge_messages_decoded_total',
      'edgebridge_messages_rejected_total',
      'edgebridge_messages_unrouted_total',
      'edgebridge_sink_points_written_total{sink="influx"}',
      'edgebridge_sink_points_written_total{sink="redis"}',
      'edgebridge_sink_points_rejected_total',
      'edgebridge_sink_points_retried_total',
      'edgebridge_sink_batch_points_bucket',
      'edgebridge_sink_write_seconds_bucket',
      'edgebridge_sink_breaker_state{sink="influx"} 0',
      'edgebridge_sink_backlog_points',
      'edgebridge_sink_backlog_bytes',
      'edgebridge_mqtt_connected 1',
      'edgebridge_nodejs_eventloop_lag_seconds',
      'edgebridge_process_resident_memory_bytes',
    ]) {
      assert.ok(text.includes(name), `metrics has ${name}`);
    }

    const status = await gw.get('/status');
    assert.equal(status.status, 200);
    const body = await status.text();
    const json = JSON.parse(body) as { gatewayId: string; sinks: unknown[] };
    assert.equal(json.gatewayId, 'gw1');
    assert.equal(json.sinks.length, 2);

    assert.equal((await gw.get('/nope')).status, 404);
    const post = await gw.get('/status', { method: 'POST', body: 'x'.repeat(10_000) });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await gw.get('/readyz', { method: 'HEAD' });
    assert.equal(head.status, 200);

    for (const text of [body, await (await gw.get('/metrics')).text(), gw.stdout, gw.stderr]) {
      assert.ok(!text.includes(TOKEN), 'the token never appears');
    }
  });

  it('publishes a retained online status, and the broker holds the session (clean: false)', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no retained status')), 3000);
      pub.client.subscribe('edgebridge/gw1/status', { qos: 1 });
      pub.client.on('message', (topic, payload, packet) => {
        if (topic === 'edgebridge/gw1/status' && packet.retain) {
          clearTimeout(timer);
          resolve(payload.toString());
        }
      });
    });
    assert.equal(seen, 'online');
  });
});

function chunk(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
