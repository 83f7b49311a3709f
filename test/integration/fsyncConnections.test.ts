import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { connectPublisher, freePort, startMosquitto, startRedis, startVictoriaMetrics, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher, RedisHandle, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';
import { missing } from './support/sequencedLoad.ts';

/**
 * spool.ack=fsync over mqtt.connections=4 on a real Mosquitto, Redis and VictoriaMetrics: the broker splits the
 * messages over the four connections of one gateway (`$share/<clientId>/…`), one fdatasync acknowledges several
 * of them, every message lands exactly once in both sinks, each device's stream entries are in timestamp order,
 * and a SIGKILL mid-run followed by a restart loses nothing.
 */
const CONNECTIONS = 4;
/**
 * Devices per publisher: few, so that a device's consecutive messages fall into one fdatasync cycle on different
 * connections and can be spooled swapped (measured without the Redis sink's time sort: 8 of 2 000 entries out of
 * order with 2 devices per publisher, 0 with 10, whose consecutive messages never share a cycle of 4).
 */
const DEVICES = 2;

const FAST = {
  EDGEBRIDGE_INFLUX_BATCH_FLUSH_INTERVAL_MS: '200',
  // Redis keeps its default 1 s: fewer batch boundaries, the one place a swapped pair is not put back in order.
  EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200',
  EDGEBRIDGE_MQTT_RECONNECT_MAX_MS: '1000',
};

interface Entry {
  readonly device: string;
  readonly seq: number;
  readonly ts: number;
}

/** The stream entries of `measurement`, in stream order. */
async function streamEntries(redis: Redis, measurement: string): Promise<Entry[]> {
  const stream = await redis.xrange(`eb:stream:{${measurement}}`, '-', '+');
  return stream.map(([, f]) => ({
    device: f[f.indexOf('device') + 1]!,
    seq: Number(f[f.indexOf('seq') + 1]),
    ts: Number(f[f.indexOf('ts') + 1]),
  }));
}

/** Entries of a device whose timestamp is older than an earlier entry of the same device. */
function outOfOrder(entries: readonly Entry[]): Entry[] {
  const newest = new Map<string, number>();
  const out: Entry[] = [];
  for (const e of entries) {
    if (e.ts < (newest.get(e.device) ?? Number.NEGATIVE_INFINITY)) out.push(e);
    else newest.set(e.device, e.ts);
  }
  return out;
}

/**
 * Publishes `count` sequenced messages (seq from `from`) with their time, over the devices `d<from>…` in turn
 * (each publisher its own devices: a device's order is its publisher's), `window` unacknowledged at most.
 */
function publish(pub: Publisher, measurement: string, from: number, count: number): Promise<number> {
  const messages = (function* () {
    for (let seq = from; seq < from + count; seq++) {
      const device = `d${from}-${seq % DEVICES}`;
      yield { topic: `sensors/${device}/${measurement}`, payload: JSON.stringify({ seq, ts: Date.now() }), qos: 1 as const };
    }
  })();
  return pub.publishMany(messages, { window: 100 });
}

describe('spool.ack=fsync over several MQTT connections (mqtt.connections)', () => {
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let vm: VictoriaMetricsHandle;
  let redis: Redis;
  let dir: string;
  let env: Record<string, string>;
  const gateways: GatewayProcess[] = [];
  const publishers: Publisher[] = [];

  before(async () => {
    [mq, rd, vm] = await Promise.all([
      startMosquitto({ persistence: true, extraConfig: ['max_queued_messages 100000', 'max_inflight_messages 1000'] }),
      startRedis({ appendonly: true }),
      startVictoriaMetrics(),
    ]);
    redis = new Redis(rd.url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-fsyncconn-'));
    env = {
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_INFLUX_URL: vm.url,
      EDGEBRIDGE_REDIS_URL: rd.url,
      EDGEBRIDGE_SPOOL_DIR: dir,
      EDGEBRIDGE_SPOOL_ACK: 'fsync',
      EDGEBRIDGE_MQTT_CONNECTIONS: String(CONNECTIONS),
      EDGEBRIDGE_MQTT_CLIENT_ID: 'eb-fsyncconn',
      EDGEBRIDGE_HTTP_PORT: String(await freePort()),
      ...FAST,
    };
  });

  after(async () => {
    await Promise.all(publishers.map((p) => p.end(true).catch(() => {})));
    redis?.disconnect();
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all([mq?.destroy(), rd?.destroy(), vm?.destroy()]);
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<GatewayProcess> {
    const gw = await GatewayProcess.start({ env });
    gateways.push(gw);
    await waitFor(async () => (await gw.status()).readiness.ready, { timeoutMs: 15_000, message: () => 'gateway not ready' });
    return gw;
  }

  it('four connections share the messages and the fdatasyncs; each lands exactly once, in timestamp order per device', async () => {
    const gw = await start();
    const status0 = await gw.status();
    const mqtt0 = status0.mqtt as unknown as { connections: { clientId: string; connected: boolean }[] };
    assert.deepEqual(
      mqtt0.connections.map((c) => [c.clientId, c.connected]),
      [0, 1, 2, 3].map((i) => [`eb-fsyncconn-${i}`, true]),
    );
    const pubs = await Promise.all([connectPublisher(mq.url), connectPublisher(mq.url)]);
    publishers.push(...pubs);
    const N = 2000;
    await Promise.all([publish(pubs[0]!, 'fsc', 0, N / 2), publish(pubs[1]!, 'fsc', N / 2, N / 2)]);
    await waitFor(async () => (await redis.xlen('eb:stream:{fsc}')) >= N, {
      timeoutMs: 60_000,
      message: () => 'not every message in Redis',
    });
    const series = await vm.waitForSeries('fsc_seq', (s) => s.reduce((n, x) => n + x.values.length, 0) >= N, 30_000);
    const status = await gw.status();
    const perConnection = (status.mqtt as unknown as { connections: { received: number }[] }).connections.map((c) => c.received);
    const entries = await streamEntries(redis, 'fsc');
    const late = outOfOrder(entries);
    const fsyncs = status.spool.fsyncs ?? 0;
    process.stderr.write(
      `fsyncConnections: per connection ${JSON.stringify(perConnection)}, ${fsyncs} fdatasyncs for ${N} messages, ${late.length} entries out of timestamp order\n`,
    );
    for (const r of perConnection) assert.ok(r > N / CONNECTIONS / 4, `every connection took a share: ${JSON.stringify(perConnection)}`);
    assert.equal(entries.length, N, 'each message once in the Redis stream');
    assert.deepEqual(
      missing(
        entries.map((e) => e.seq),
        N,
      ),
      [],
    );
    const values = series.flatMap((s) => s.values);
    assert.equal(values.length, N, 'each message once in VictoriaMetrics');
    assert.deepEqual(missing(values, N), []);
    assert.ok(fsyncs < N, `group commit: fewer fdatasyncs (${fsyncs}) than messages (${N})`);
    assert.deepEqual(late, [], 'stream entries of each device in timestamp order');
    await gw.stop();
    gateways.splice(gateways.indexOf(gw), 1);
  });

  it('SIGKILL mid-run, then a restart: nothing the publishers sent is missing', async () => {
    let gw = await start();
    const pubs = await Promise.all([connectPublisher(mq.url), connectPublisher(mq.url)]);
    publishers.push(...pubs);
    const N = 3000;
    const sending = Promise.all([publish(pubs[0]!, 'fsk', 0, N / 2), publish(pubs[1]!, 'fsk', N / 2, N / 2)]);
    await waitFor(async () => (await gw.status()).messages.accepted >= N / 5, { timeoutMs: 30_000, intervalMs: 20 });
    gw.signal('SIGKILL');
    await gw.exited();
    gateways.splice(gateways.indexOf(gw), 1);
    await sending;
    gw = await start();
    await waitFor(async () => new Set((await streamEntries(redis, 'fsk')).map((e) => e.seq)).size >= N, {
      timeoutMs: 60_000,
      message: () => 'not every message in Redis after the restart',
    });
    const series = await vm.waitForSeries('fsk_seq', (s) => new Set(s.flatMap((x) => x.values)).size >= N, 30_000);
    const entries = await streamEntries(redis, 'fsk');
    const vmValues = series.flatMap((s) => s.values);
    process.stderr.write(
      `fsyncConnections kill: Redis ${entries.length} entries for ${N} messages (${entries.length - N} redelivered twice), VictoriaMetrics ${vmValues.length}\n`,
    );
    assert.deepEqual(
      missing(
        entries.map((e) => e.seq),
        N,
      ),
      [],
      'nothing missing in Redis',
    );
    assert.deepEqual(missing(vmValues, N), [], 'nothing missing in VictoriaMetrics');
    await gw.stop();
    gateways.splice(gateways.indexOf(gw), 1);
  });

  it('back to one connection: the start warns about each session the four left at the broker', async () => {
    const gw = await GatewayProcess.start({ env: { ...env, EDGEBRIDGE_MQTT_CONNECTIONS: '1' } });
    gateways.push(gw);
    await waitFor(async () => (await gw.status()).readiness.ready, { timeoutMs: 15_000 });
    const warned = gw
      .logs()
      .filter((l) => String(l.msg).includes('no longer uses'))
      .map((l) => l.clientId);
    assert.deepEqual(
      warned,
      [0, 1, 2, 3].map((i) => `eb-fsyncconn-${i}`),
    );
  });
});
