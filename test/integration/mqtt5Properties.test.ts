import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connectAsync, type MqttClient } from 'mqtt';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * Issue 14 item 3 on real Mosquitto, VictoriaMetrics and Redis: an MQTT 5 publisher's user properties and content
 * type become the measurement, tags and time of the points the gateway process writes; a message without the
 * property its measurement needs is rejected as missing_property, counted and dead-lettered.
 */
describe('MQTT 5 properties in routes on real servers (issue 14 item 3)', () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let pub: Publisher;
  let sub: MqttClient;
  let redis: Redis;
  const deadLetters: { reason: string; detail: string; topic: string }[] = [];

  before(async () => {
    servers = await startServers();
    const routes = [
      {
        topic: 'plant/{device}/data',
        measurement: '{$user.kind}',
        tags: { device: '{device}', site: '{$user.site}', encoding: '{$contentType}' },
        timeField: '$user.ts',
        timeUnit: 'ms',
      },
      { topic: 'meter/{device}', format: 'number', measurement: 'power', tags: { device: '{device}', site: '{$user.site}' } },
    ];
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_GATEWAY_ID: 'gw-props',
        EDGEBRIDGE_ROUTES: JSON.stringify(routes),
        EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'plant/+/data:1,meter/+:1',
      },
    });
    sub = await connectAsync(servers.mq.url, { clientId: 'props-dl-watch', clean: true });
    sub.on('message', (_topic, payload) => deadLetters.push(JSON.parse(payload.toString('utf8'))));
    await sub.subscribeAsync('edgebridge/gw-props/deadletter', { qos: 0 });
    pub = await connectPublisher(servers.mq.url, { protocolVersion: 5 });
    redis = new Redis(servers.rd.url);
  });

  after(async () => {
    await pub?.end(true);
    await sub?.endAsync(true);
    redis?.disconnect();
    const exit = await gw?.stop();
    assert.equal(exit?.code, 0);
    await servers?.destroy();
  });

  it('user properties give the measurement, tags and time; the content type a tag; a repeated key its last value', async () => {
    const t = Date.now() - 60_000; // a minute ago: visibly not the arrival time
    await pub.publish('plant/p1/data', '{"force":12.5}', 1, {
      properties: { contentType: 'application/json', userProperties: { kind: 'press', site: ['hall1', 'hall2'], ts: String(t) } },
    });
    await pub.publish('meter/m1', '230', 1, { properties: { userProperties: { site: 'hall3' } } });
    await pub.publish('meter/m2', '231', 1); // no property: the tag is left out

    const press = await servers.vm.waitForSeries('press_force', (s) => s.length === 1, 15_000);
    assert.deepEqual(press[0]!.metric, {
      __name__: 'press_force',
      device: 'p1',
      site: 'hall2',
      encoding: 'application/json',
      gateway: 'gw-props',
    });
    assert.deepEqual(press[0]!.values, [12.5]);
    assert.deepEqual(press[0]!.timestamps, [t], 'the time from the ts user property (VictoriaMetrics keeps ms)');

    const power = await servers.vm.waitForSeries('power_value', (s) => s.length === 2, 15_000);
    const byDevice = new Map(power.map((s) => [s.metric.device, s.metric]));
    assert.equal(byDevice.get('m1')!.site, 'hall3');
    assert.equal(byDevice.get('m2')!.site, undefined);

    await waitFor(async () => (await redis.hget('eb:latest:{p1}:press', 'force')) === '12.5', { timeoutMs: 10_000 });
    assert.equal(await redis.hget('eb:latest:{p1}:press:ts', 'force'), String(t));
  });

  it('a message without the measurement property: rejected as missing_property, counted, dead-lettered', async () => {
    await pub.publish('plant/p2/data', '{"force":1}', 1, { properties: { userProperties: { site: 'hall1' } } });
    await waitFor(() => deadLetters.some((d) => d.topic === 'plant/p2/data'), { timeoutMs: 10_000 });
    const dead = deadLetters.find((d) => d.topic === 'plant/p2/data')!;
    assert.equal(dead.reason, 'missing_property');
    assert.match(dead.detail, /needs user property "kind"/);
    const metrics = await (await gw.get('/metrics')).text();
    assert.match(metrics, /edgebridge_messages_rejected_total\{reason="missing_property"\} 1\b/);
  });
});
