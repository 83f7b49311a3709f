import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync, type MqttClient } from 'mqtt';
import { connectPublisher, startMosquitto, startRedis, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher, RedisHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * issue 12 item 4: two gateways subscribed to `#` with a route that rejects what it gets bounced each other's dead
 * letters forever (~12 000 msg/s each way). A dead letter, of this gateway or of another, is never dead-lettered
 * again: it is rejected (by the route, as any message) and counted in edgebridge_deadletter_skipped_total.
 */
describe('dead letters between two gateways on one broker (real Mosquitto, two gateway processes)', () => {
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let pub: Publisher;
  let watch: MqttClient;
  const gateways: GatewayProcess[] = [];
  const seen: string[] = [];

  before(async () => {
    mq = await startMosquitto();
    rd = await startRedis();
    watch = await connectAsync(mq.url, { clientId: 'pingpong-watch', clean: true });
    watch.on('message', (topic) => seen.push(topic));
    await watch.subscribeAsync('edgebridge/+/deadletter', { qos: 0 });
    for (const id of ['gw-ping', 'gw-pong']) {
      gateways.push(
        await GatewayProcess.start({
          env: {
            EDGEBRIDGE_MQTT_URL: mq.url,
            EDGEBRIDGE_REDIS_URL: rd.url,
            EDGEBRIDGE_INFLUX_URL: 'http://127.0.0.1:1', // not needed here
            EDGEBRIDGE_INFLUX_TOKEN: 't',
            EDGEBRIDGE_INFLUX_ORG: 'o',
            EDGEBRIDGE_INFLUX_BUCKET: 'b',
            EDGEBRIDGE_GATEWAY_ID: id,
            EDGEBRIDGE_MQTT_CLIENT_ID: id,
            EDGEBRIDGE_MQTT_STATUS_TOPIC: '',
            EDGEBRIDGE_MQTT_SUBSCRIPTIONS: '#:0',
            // Matches every three-level topic, dead-letter topics included, and refuses what is not a number.
            EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: '{site}/{device}/{measurement}', format: 'number' }]),
          },
          waitUntil: 'alive',
        }),
      );
    }
    for (const gw of gateways) await waitFor(async () => (await gw.status()).mqtt.connected, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300)); // subscriptions
    pub = await connectPublisher(mq.url);
  });
  after(async () => {
    await pub?.end(true);
    await watch?.endAsync(true);
    for (const gw of gateways) await gw.stop();
    await rd?.destroy();
    await mq?.destroy();
  });

  it('one rejected message makes one dead letter per gateway, and the dead letters are not bounced back', async () => {
    await pub.publish('sensors/d1/climate', 'not a number', 1);
    await waitFor(() => seen.length >= 2, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(seen.sort(), ['edgebridge/gw-ping/deadletter', 'edgebridge/gw-pong/deadletter'], `dead letters seen: ${seen.length}`);
    for (const gw of gateways) {
      const status = await gw.status();
      // The message and the two dead letters (its own and the other's), all refused by the route as numbers.
      assert.equal(status.messages.rejectedByReason.bad_number, 3);
      const metrics = await (await gw.get('/metrics')).text();
      assert.match(metrics, /edgebridge_deadletter_published_total 1\b/);
      assert.match(metrics, /edgebridge_deadletter_skipped_total 2\b/);
    }
  });
});
