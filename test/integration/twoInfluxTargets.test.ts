import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connectPublisher, startMosquitto, startVictoriaMetrics, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess, type GatewayStatus } from './support/GatewayProcess.ts';
import { SequencedLoad, missing } from './support/sequencedLoad.ts';

/**
 * Two InfluxDB targets on one gateway (a local one, `sinks.influx`, and a central one in `sinks.extra`), each
 * a real VictoriaMetrics. The central one is stopped for a while: the local one keeps receiving, each sink has
 * its own breaker and spool cursor, and after the restart both hold every point.
 */
const OUTAGE_MS = Number(process.env.EDGEBRIDGE_CENTRAL_OUTAGE_S ?? 8) * 1000;

const RESILIENCE = { retryInitialMs: 200, retryMaxMs: 1000, breakerThreshold: 3, breakerHalfOpenAfterMs: 2000, timeoutMs: 2000 };

type SinkStatus = GatewayStatus['sinks'][number];

describe('two InfluxDB targets, one of them down for a while', () => {
  let mq: MosquittoHandle;
  let local: VictoriaMetricsHandle;
  let central: VictoriaMetricsHandle;
  let gw: GatewayProcess;
  let pub: Publisher;

  before(async () => {
    [mq, local, central] = await Promise.all([startMosquitto(), startVictoriaMetrics(), startVictoriaMetrics()]);
    gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_REDIS_ENABLED: 'false',
        EDGEBRIDGE_INFLUX_URL: local.url,
        EDGEBRIDGE_INFLUX_BATCH_FLUSH_INTERVAL_MS: '200',
        EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_INITIAL_MS: String(RESILIENCE.retryInitialMs),
        EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_MAX_MS: String(RESILIENCE.retryMaxMs),
        EDGEBRIDGE_SINKS_EXTRA: JSON.stringify([
          { name: 'central', type: 'influx', url: central.url, batch: { flushIntervalMs: 200 }, resilience: RESILIENCE },
        ]),
      },
    });
    pub = await connectPublisher(mq.url);
  });

  after(async () => {
    await pub?.end(true);
    await gw?.stop();
    await Promise.all([mq?.destroy(), local?.destroy(), central?.destroy()]);
  });

  it('the local target keeps receiving while the central one is down; both hold every point after', async (t: TestContext) => {
    const sink = async (name: string): Promise<SinkStatus & { type?: string }> => gw.sink(name);
    assert.deepEqual(
      (await gw.status()).sinks.map((s) => s.name),
      ['influx', 'central'],
    );
    const load = new SequencedLoad(pub, { devices: 3, intervalMs: 5, measurement: 'twoinflux' });
    load.start();
    await waitFor(async () => (await sink('central')).pointsWritten > 20 && (await sink('influx')).pointsWritten > 20, {
      timeoutMs: 10_000,
    });

    await central.stop();
    const down = Date.now();
    await waitFor(async () => (await sink('central')).breaker === 'open', { timeoutMs: 15_000 });

    // Once a second during the outage: the local target grows, its breaker stays closed; the central backlog grows.
    const localCounts: number[] = [];
    const centralBacklog: number[] = [];
    while (Date.now() - down < OUTAGE_MS) {
      localCounts.push(await local.countSamples('twoinflux_seq'));
      const [l, c] = [await sink('influx'), await sink('central')];
      assert.equal(l.breaker, 'closed', 'the local sink has its own breaker, closed throughout');
      assert.equal(l.lastError, null, 'the local sink never failed');
      centralBacklog.push(c.backlog.points);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (let i = 1; i < localCounts.length; i++) {
      assert.ok(localCounts[i]! > localCounts[i - 1]!, `the local target grew in every second of the outage: ${localCounts.join(',')}`);
    }
    for (let i = 1; i < centralBacklog.length; i++) {
      assert.ok(centralBacklog[i]! > centralBacklog[i - 1]!, `the central cursor stayed behind: ${centralBacklog.join(',')}`);
    }
    const during = { influx: await sink('influx'), central: await sink('central') };
    assert.ok(during.influx.backlog.points < during.central.backlog.points, 'each sink reads from its own spool cursor');
    assert.equal(during.central.lastError?.kind !== undefined, true, 'the central sink names its error');

    await central.restart();
    await waitFor(async () => (await sink('central')).breaker === 'closed', { timeoutMs: 20_000 });
    const sent = await load.stop();
    await waitFor(async () => (await sink('central')).backlog.points === 0 && (await sink('influx')).backlog.points === 0, {
      timeoutMs: 20_000,
    });

    const figures: Record<string, unknown> = { sent, localSamplesPerSecondOfOutage: localCounts, centralBacklogPerSecond: centralBacklog };
    for (const [name, vm] of [
      ['influx', local],
      ['central', central],
    ] as const) {
      const series = await vm.waitForSeries('twoinflux_seq', (s) => new Set(s.flatMap((x) => x.values)).size >= sent, 20_000);
      const values = series.flatMap((s) => s.values);
      assert.deepEqual(missing(values, sent), [], `every seq is in the ${name} target`);
      const st = await sink(name);
      assert.equal(st.pointsDropped, 0);
      figures[name] = {
        distinct: new Set(values).size,
        duplicates: values.length - new Set(values).size,
        retried: st.pointsRetried,
        breaker: st.breaker,
      };
    }
    assert.equal((await sink('influx')).pointsRetried, 0, 'the local sink never retried');
    assert.ok((await sink('central')).pointsRetried > 0, 'the central sink retried its backlog');
    t.diagnostic(`two InfluxDB targets: ${JSON.stringify(figures)}`);
  });
});
