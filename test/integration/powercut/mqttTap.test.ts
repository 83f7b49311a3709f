/**
 * The power-cut run's MqttTap against a real Mosquitto: it relays a persistent MQTT 5 subscriber unchanged and
 * records exactly the seqs the subscriber acknowledged (the run's measure of what the gateway promised).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from 'mqtt';
import { MqttTap } from '../../../scripts/powercut/MqttTap.ts';
import { freePort, type MosquittoHandle, startMosquitto, waitFor } from '../../harness/index.ts';

let broker: MosquittoHandle;
let tap: MqttTap;

before(async () => {
  broker = await startMosquitto();
  tap = new MqttTap(broker.port);
  await tap.listen(await freePort());
});

after(async () => {
  await tap.close();
  await broker.destroy();
});

test('records every seq the subscriber acknowledged, and none it held back', async () => {
  const held = new Set([7, 8, 9]);
  const sub = connect(`mqtt://127.0.0.1:${tap.port}`, { clientId: 'tap-sub', clean: false, protocolVersion: 5, reconnectPeriod: 0 });
  const received: number[] = [];
  sub.handleMessage = (packet, done) => {
    const seq = JSON.parse(packet.payload.toString()).seq as number;
    received.push(seq);
    // A held-back message is never acknowledged: the client stays on it (mqtt.js hands over the next one only after).
    if (!held.has(seq)) done();
  };
  await new Promise<void>((resolve) => sub.once('connect', () => sub.subscribe('sensors/#', { qos: 1 }, () => resolve())));
  const pub = connect(broker.url, { clientId: 'tap-pub', protocolVersion: 4 });
  await new Promise<void>((resolve) => pub.once('connect', () => resolve()));
  for (let seq = 0; seq < 7; seq++) await pub.publishAsync(`sensors/d${seq % 3}/chaos`, `{"seq":${seq},"ts":${Date.now()}}`, { qos: 1 });
  await pub.publishAsync('sensors/d0/chaos', '{"seq":7,"ts":1}', { qos: 1 });
  await waitFor(() => received.includes(7), { timeoutMs: 10_000 });
  await waitFor(() => tap.gatewayAckedAt.size === 7, { timeoutMs: 10_000, message: () => `acked ${[...tap.gatewayAckedAt.keys()]}` });
  assert.deepEqual(
    [...tap.gatewayAckedAt.keys()].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.equal(tap.connections, 1);
  sub.end(true);
  pub.end(true);
});
