import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * Issue 12 items 1 and 3 against real Mosquitto, Redis and VictoriaMetrics: a line with an over-long unsigned
 * integer no longer kills the gateway (it used to crash-loop on the redelivered message), and a string with newlines
 * cannot forge a point in VictoriaMetrics.
 */
describe('device line protocol on real servers (issue 12 items 1, 3)', () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let pub: Publisher;
  let redis: Redis;

  before(async () => {
    servers = await startServers();
    const routes = [
      { topic: 'lp/{device}', format: 'line', measurement: '', tags: { device: '{device}' }, timeField: '', timeUnit: 'ns' },
      { topic: 'sensors/{device}/{measurement}' },
    ];
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_GATEWAY_ID: 'gw1',
        EDGEBRIDGE_ROUTES: JSON.stringify(routes),
        EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'lp/+:1,sensors/#:1',
      },
    });
    pub = await connectPublisher(servers.mq.url);
    redis = new Redis(servers.rd.url);
  });

  after(async () => {
    await pub?.end(true);
    redis?.disconnect();
    const exit = await gw?.stop();
    assert.equal(exit?.code, 0, 'SIGTERM exits 0: the gateway survived every message');
    await servers?.destroy();
  });

  it('item 1: m v=000000000000000000001u is written as 1u and the gateway goes on; an out-of-range one is rejected', async () => {
    const ts = BigInt(Date.now() - 10_000) * 1_000_000n;
    await pub.publish('lp/d1', `m v=000000000000000000001u ${ts}`, 1);
    await pub.publish('lp/d1', `m v=18446744073709551616u ${ts}`, 1);
    await pub.publish('lp/d1', `m w=00018446744073709551615u ${ts + 1n}`, 1);
    const series = await servers.vm.waitForSeries('m_v', (s) => s.some((x) => x.metric.device === 'd1'), 10_000);
    assert.deepEqual(series.find((x) => x.metric.device === 'd1')!.values, [1]);
    await servers.vm.waitForSeries('m_w', (s) => s.length === 1, 10_000);
    await waitFor(async () => (await redis.hget('eb:latest:{d1}:m', 'w')) === '18446744073709551615', { timeoutMs: 5000 });
    assert.equal(await redis.hget('eb:latest:{d1}:m', 'v'), '1');
    await waitFor(async () => gw.logs().some((l) => JSON.stringify(l).includes('bad_line')), { timeoutMs: 5000 });
  });

  it('item 3: a string value with newlines lands as one point; the forged inj2_evil point does not exist', async () => {
    const payload = JSON.stringify({ s: 'x\ninj2_evil,device=victim,gateway=adv3 value=42 1000000000000\n', t: 7 });
    await pub.publish('sensors/dev9/inj', payload, 1);
    await pub.publish('lp/dev9', 'inj2 s="a\nforged2,device=victim value=1 1000000000000\n",t=8', 1);
    const real = await servers.vm.waitForSeries('inj_t', (s) => s.some((x) => x.metric.device === 'dev9'), 10_000);
    assert.deepEqual(real.find((x) => x.metric.device === 'dev9')!.values, [7]);
    await servers.vm.waitForSeries('inj2_t', (s) => s.some((x) => x.metric.device === 'dev9'), 10_000);
    await waitFor(async () => (await redis.hget('eb:latest:{dev9}:inj', 's')) !== null, { timeoutMs: 5000 });
    assert.equal(await redis.hget('eb:latest:{dev9}:inj', 's'), 'x\\ninj2_evil,device=victim,gateway=adv3 value=42 1000000000000\\n');
    assert.deepEqual(await servers.vm.exportSeries('inj2_evil_value'), []);
    assert.deepEqual(await servers.vm.exportSeries('forged2_value'), []);
    assert.deepEqual(await servers.vm.exportSeries('{device="victim"}'), []);
  });
});
