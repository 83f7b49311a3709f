import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freePort, startMosquitto, startRedis, startVictoriaMetrics, connectPublisher, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, RedisHandle, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

describe('lifecycle', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function servers(): Promise<{ mq: MosquittoHandle; rd: RedisHandle; vm: VictoriaMetricsHandle }> {
    const [mq, rd, vm] = await Promise.all([startMosquitto(), startRedis(), startVictoriaMetrics()]);
    cleanups.push(
      () => mq.destroy(),
      () => rd.destroy(),
      () => vm.destroy(),
    );
    return { mq, rd, vm };
  }

  it('starts while the broker and both sinks are down: alive, not ready, then ready once they appear', async () => {
    const [mqPort, rdPort, vmPort] = [await freePort(), await freePort(), await freePort()];
    const gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: `mqtt://127.0.0.1:${mqPort}`,
        EDGEBRIDGE_INFLUX_URL: `http://127.0.0.1:${vmPort}`,
        EDGEBRIDGE_REDIS_URL: `redis://127.0.0.1:${rdPort}`,
        EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200',
        EDGEBRIDGE_MQTT_RECONNECT_MAX_MS: '1000',
      },
      waitUntil: 'alive',
    });
    cleanups.push(() => gw.stop());
    const readyz = await gw.get('/readyz');
    assert.equal(readyz.status, 503);
    const { problems } = (await readyz.json()) as { problems: string[] };
    assert.ok(
      problems.some((p) => p.startsWith('mqtt: not connected')),
      problems.join('; '),
    );

    const mq = await startMosquitto({ port: mqPort });
    cleanups.push(() => mq.destroy());
    await waitFor(async () => (await gw.get('/readyz')).status === 200, { timeoutMs: 10_000 });
    const exit = await gw.stop();
    assert.equal(exit.code, 0);
  });

  it('SIGTERM flushes what is queued before exiting 0', async () => {
    const { mq, rd, vm } = await servers();
    const gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_URL: vm.url,
        EDGEBRIDGE_REDIS_URL: rd.url,
        // Batches would close only after a minute: only the shutdown flush can write them.
        EDGEBRIDGE_INFLUX_BATCH_FLUSH_INTERVAL_MS: '60000',
        EDGEBRIDGE_REDIS_BATCH_FLUSH_INTERVAL_MS: '60000',
      },
    });
    const pub = await connectPublisher(mq.url);
    for (let i = 0; i < 25; i++) await pub.publish(`sensors/f${i}/flush`, JSON.stringify({ v: i }), 1);
    await waitFor(async () => (await gw.status()).messages.accepted === 25);
    await pub.end(true);
    const exit = await gw.stop();
    assert.equal(exit.code, 0);
    assert.equal(await vm.countSamples('flush_v'), 25);
    const redis = new Redis(rd.url);
    assert.equal(await redis.xlen('eb:stream:{flush}'), 25);
    redis.disconnect();
    const last = gw.logs().at(-1)!;
    assert.equal(last.msg, 'edgebridge stopped');
  });

  it('a second signal exits at once', async () => {
    const [mqPort, vmPort] = [await freePort(), await freePort()];
    const { rd } = await servers();
    const gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: `mqtt://127.0.0.1:${mqPort}`,
        EDGEBRIDGE_INFLUX_URL: `http://127.0.0.1:${vmPort}`,
        EDGEBRIDGE_REDIS_URL: rd.url,
        EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '60000',
        EDGEBRIDGE_INFLUX_ENABLED: 'false',
      },
      waitUntil: 'alive',
    });
    gw.signal('SIGTERM');
    gw.signal('SIGTERM');
    const started = Date.now();
    const exit = await gw.exited();
    assert.ok(Date.now() - started < 5000);
    assert.ok(exit.code === 0 || exit.code === 143, `exit ${exit.code}`);
  });

  for (const version of ['5', '4'] as const) {
    it(`MQTT ${version === '5' ? '5' : '3.1.1'}: messages published while the gateway is down are delivered when it returns (persistent session)`, async () => {
      const { mq, rd, vm } = await servers();
      const env = {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_URL: vm.url,
        EDGEBRIDGE_REDIS_URL: rd.url,
        EDGEBRIDGE_MQTT_PROTOCOL_VERSION: version,
      };
      const first = await GatewayProcess.start({ env });
      assert.equal((await first.stop()).code, 0);
      const pub = await connectPublisher(mq.url);
      for (let i = 0; i < 30; i++) await pub.publish(`sensors/away${i % 3}/away`, JSON.stringify({ seq: i }), 1);
      await pub.end();
      const second = await GatewayProcess.start({ env });
      cleanups.push(() => second.stop());
      const series = await vm.waitForSeries('away_seq', (s) => s.reduce((n, x) => n + x.values.length, 0) >= 30, 10_000);
      assert.deepEqual(
        series.flatMap((s) => s.values).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i),
      );
    });
  }
});
