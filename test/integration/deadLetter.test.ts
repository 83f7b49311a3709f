import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync, type MqttClient } from 'mqtt';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

interface DeadRecord {
  gateway: string;
  time: string;
  reason: string;
  detail: string;
  topic: string;
  payloadBytes: number;
  truncated: boolean;
  encoding: 'utf8' | 'base64';
  payload: string;
}

/** Rejected messages re-published to edgebridge/<gatewayId>/deadletter on a real Mosquitto, counted in /metrics. */
describe('dead letter on a real broker', () => {
  let servers: Servers;
  let mq: MosquittoHandle;
  let gw: GatewayProcess;
  let pub: Publisher;
  let sub: MqttClient;
  const records: DeadRecord[] = [];

  before(async () => {
    servers = await startServers();
    ({ mq } = servers);
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_GATEWAY_ID: 'gw-dl',
        // Also subscribed to its own dead-letter topic: must not loop.
        EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'sensors/#:1,edgebridge/#:0',
        EDGEBRIDGE_MQTT_MAX_PAYLOAD_BYTES: '8192',
        EDGEBRIDGE_INFLUX_TOKEN: 't',
        EDGEBRIDGE_INFLUX_ORG: 'o',
        EDGEBRIDGE_INFLUX_BUCKET: 'b',
      },
    });
    sub = await connectAsync(mq.url, { clientId: 'dl-watch', clean: true });
    sub.on('message', (_topic, payload) => records.push(JSON.parse(payload.toString('utf8')) as DeadRecord));
    await sub.subscribeAsync('edgebridge/gw-dl/deadletter', { qos: 0 });
    pub = await connectPublisher(mq.url);
  });

  after(async () => {
    await pub?.end(true);
    await sub?.endAsync(true);
    await gw?.stop();
    await servers?.destroy();
  });

  it('each rejected message arrives with its reason, topic and payload (base64 when not UTF-8, cut when large)', async () => {
    await pub.publish('sensors/d1/climate', '{"t": 21.5', 1);
    await pub.publish('sensors/d2/climate', Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]), 1);
    await pub.publish('sensors/d3/climate', Buffer.alloc(9000, 0x61), 1);
    await pub.publish('sensors/d4/climate', '{"t": 1}', 1); // fine: not dead-lettered
    await waitFor(() => records.length >= 3, { timeoutMs: 10_000, message: () => `dead letters: ${JSON.stringify(records)}` });
    const byTopic = new Map(records.map((r) => [r.topic, r]));
    const bad = byTopic.get('sensors/d1/climate')!;
    assert.equal(bad.reason, 'bad_json');
    assert.equal(bad.gateway, 'gw-dl');
    assert.equal(bad.encoding, 'utf8');
    assert.equal(bad.payload, '{"t": 21.5');
    assert.ok(!Number.isNaN(Date.parse(bad.time)));
    const binary = byTopic.get('sensors/d2/climate')!;
    assert.equal(binary.encoding, 'base64');
    assert.deepEqual([...Buffer.from(binary.payload, 'base64')], [0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const big = byTopic.get('sensors/d3/climate')!;
    assert.equal(big.reason, 'too_large');
    assert.equal(big.payloadBytes, 9000);
    assert.equal(big.truncated, true);
    assert.equal(big.payload.length, 4096);
    assert.ok(!byTopic.has('sensors/d4/climate'));

    // Counted: published dead letters and rejections agree; the dead letters it received back are unrouted, not re-dead-lettered.
    await waitFor(async () => /edgebridge_deadletter_published_total 3\b/.test(await (await gw.get('/metrics')).text()), {
      timeoutMs: 10_000,
    });
    const metrics = await (await gw.get('/metrics')).text();
    assert.match(metrics, /edgebridge_deadletter_dropped_total 0\b/);
    assert.match(metrics, /edgebridge_messages_rejected_total\{reason="bad_json"\} 2\b/);
    assert.match(metrics, /edgebridge_messages_rejected_total\{reason="too_large"\} 1\b/);
    await waitFor(async () => (await gw.status()).messages.unrouted >= 3, { timeoutMs: 10_000 });
    const status = await gw.status();
    assert.equal(status.messages.rejected, 3);
    assert.equal(records.length, 3, 'no loop');
  });
});
