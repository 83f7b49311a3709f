import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, RedisHandle, VictoriaMetricsHandle, Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';
import { SequencedLoad, missing } from './support/sequencedLoad.ts';

/** Seconds VictoriaMetrics stays down; the acceptance figure is 30. */
const OUTAGE_S = Number(process.env.EDGEBRIDGE_OUTAGE_SECONDS ?? 30);

const FAST_RESILIENCE = (sink: 'INFLUX' | 'REDIS'): Record<string, string> => ({
  [`EDGEBRIDGE_${sink}_RESILIENCE_RETRY_INITIAL_MS`]: '200',
  [`EDGEBRIDGE_${sink}_RESILIENCE_RETRY_MAX_MS`]: '1000',
  [`EDGEBRIDGE_${sink}_RESILIENCE_BREAKER_THRESHOLD`]: '3',
  [`EDGEBRIDGE_${sink}_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS`]: '3000',
  [`EDGEBRIDGE_${sink}_RESILIENCE_TIMEOUT_MS`]: '2000',
  [`EDGEBRIDGE_${sink}_BATCH_FLUSH_INTERVAL_MS`]: '200',
});

describe('one sink down: nothing lost, the other never pauses, the breaker opens, half-opens and closes', () => {
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
        ...FAST_RESILIENCE('INFLUX'),
        ...FAST_RESILIENCE('REDIS'),
      },
    });
    pub = await connectPublisher(mq.url);
    redis = new Redis(rd.url, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null });
    redis.on('error', () => {}); // the test stops this server on purpose
    await redis.connect();
  });

  after(async () => {
    await pub?.end(true);
    redis?.disconnect();
    await gw?.stop();
    await servers?.destroy();
  });

  it(`VictoriaMetrics stopped for ${OUTAGE_S} s: Redis keeps flowing, the backlog lands after it returns`, async () => {
    const load = new SequencedLoad(pub, { devices: 5, intervalMs: 20 });
    load.start();
    await waitFor(async () => (await gw.sink('influx')).pointsWritten > 20, { timeoutMs: 5000 });

    await vm.stop();
    const down = Date.now();
    // The breaker opens after 3 failed attempts; readiness names the sink.
    await waitFor(async () => (await gw.sink('influx')).breaker === 'open', { timeoutMs: 10_000 });
    const readyz = await gw.get('/readyz');
    assert.equal(readyz.status, 503);
    const body = (await readyz.json()) as { problems: string[] };
    assert.ok(
      body.problems.some((p) => p.startsWith('sink influx: circuit breaker open')),
      JSON.stringify(body),
    );

    // Redis never pauses: sample its stream every second during the outage.
    const samples: number[] = [];
    while (Date.now() - down < OUTAGE_S * 1000) {
      samples.push(await redis.xlen('eb:stream:{seqtest}'));
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (let i = 1; i < samples.length; i++) {
      assert.ok(samples[i]! > samples[i - 1]!, `Redis grew in every second of the outage: ${samples.join(',')}`);
    }
    const backlog = (await gw.sink('influx')).backlog.points;
    assert.ok(backlog > 0, 'the InfluxDB backlog is held');

    await vm.restart();
    await waitFor(async () => (await gw.sink('influx')).breaker === 'closed', { timeoutMs: 15_000 });
    const sent = await load.stop();

    await waitFor(async () => (await gw.sink('influx')).backlog.points === 0 && (await gw.sink('redis')).backlog.points === 0, {
      timeoutMs: 15_000,
    });
    const series = await vm.waitForSeries('seqtest_seq', (s) => s.reduce((n, x) => n + x.values.length, 0) >= sent, 15_000);
    const landed = series.flatMap((s) => s.values);
    assert.deepEqual(missing(landed, sent), [], 'every sequence number is in VictoriaMetrics');
    assert.equal(landed.length, sent, 'no duplicates in VictoriaMetrics');
    const stream = await redis.xrange('eb:stream:{seqtest}', '-', '+');
    const inRedis = stream.map(([, f]) => Number(f[f.indexOf('seq') + 1]));
    assert.deepEqual(missing(inRedis, sent), [], 'every sequence number is in the Redis stream');

    const influx = await gw.sink('influx');
    assert.equal(influx.pointsDropped, 0);
    assert.ok(influx.pointsRetried > 0);
    const transitions = gw
      .logs()
      .filter((l) => l.sink === 'influx' && typeof l.msg === 'string' && l.msg.startsWith('circuit breaker'))
      .map((l) => l.to);
    assert.equal(transitions[0], 'open');
    assert.ok(transitions.includes('half-open'), `transitions: ${transitions.join(' → ')}`);
    assert.equal(transitions.at(-1), 'closed');
    const metrics = await (await gw.get('/metrics')).text();
    assert.match(metrics, /edgebridge_sink_breaker_state\{sink="influx"\} 0/);
  });

  it('Redis stopped: InfluxDB keeps flowing; Redis gets everything after it returns', async () => {
    await redis.del('eb:stream:{seqtest2}');
    let sent = 0;
    const publishSome = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++, sent++) {
        await pub.publish(`sensors/r${sent % 3}/seqtest2`, JSON.stringify({ seq: sent, ts: Date.now() }), 1);
      }
    };
    await publishSome(20);
    await rd.stop();
    await publishSome(50);
    await waitFor(async () => (await gw.sink('redis')).breaker === 'open', { timeoutMs: 10_000 });
    await publishSome(50);
    // InfluxDB has everything while Redis is down.
    await vm.waitForSeries('seqtest2_seq', (s) => s.reduce((n, x) => n + x.values.length, 0) === sent, 10_000);
    assert.ok((await gw.sink('redis')).backlog.points > 0);

    await rd.restart();
    await waitFor(async () => (await gw.sink('redis')).backlog.points === 0, { timeoutMs: 15_000 });
    const stream = await redis.xrange('eb:stream:{seqtest2}', '-', '+');
    const inRedis = stream.map(([, f]) => Number(f[f.indexOf('seq') + 1]));
    assert.deepEqual(missing(inRedis, sent), []);
  });
});
