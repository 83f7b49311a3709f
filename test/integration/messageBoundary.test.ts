import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync, type MqttClient } from 'mqtt';
import { connectPublisher, startMosquitto, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher } from '../harness/index.ts';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../src/log/CollapsingLog.ts';
import { Router } from '../../src/pipeline/Router.ts';
import { MqttSource, type MessageRouter } from '../../src/source/MqttSource.ts';
import { DeadLetter } from '../../src/source/DeadLetter.ts';
import { MemorySpool } from '../../src/spool/MemorySpool.ts';
import { entryLines } from '../../src/spool/Batch.ts';
import { SourceStats } from '../../src/stats/SourceStats.ts';
import { memoryLogger } from '../fakes/silentLogger.ts';

/**
 * "No input can stop the gateway" (issue 12): a router (decoder) that throws for one message, on a real broker.
 * Before the fix the exception escaped into mqtt.js's packet handler and took the process down; the message,
 * unacknowledged, came back at the next start.
 */
describe('an exception while handling one message (real Mosquitto)', () => {
  let mq: MosquittoHandle;
  let pub: Publisher;
  let watch: MqttClient;
  let source: MqttSource;
  const deadLetters: { reason: string; detail: string; topic: string; payload: string }[] = [];

  before(async () => {
    mq = await startMosquitto();
    watch = await connectAsync(mq.url, { clientId: 'boundary-watch', clean: true });
    watch.on('message', (_t, payload) => deadLetters.push(JSON.parse(payload.toString('utf8')) as (typeof deadLetters)[number]));
    await watch.subscribeAsync('edgebridge/gw-boundary/deadletter', { qos: 0 });
    pub = await connectPublisher(mq.url);
  });
  after(async () => {
    await source?.stop();
    await pub?.end(true);
    await watch?.endAsync(true);
    await mq?.destroy();
  });

  it('rejects that message as internal_error (counted, dead-lettered with the error, acknowledged) and goes on', async () => {
    const config = loadConfig({
      argv: [],
      env: { EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_GATEWAY_ID: 'gw-boundary', EDGEBRIDGE_MQTT_CLIENT_ID: 'gw-boundary' },
      hostname: 'gw',
    });
    const real = new Router({
      routes: config.routes,
      sinkNames: ['influx', 'redis'],
      gatewayId: 'gw-boundary',
      gatewayTag: true,
      maxPayloadBytes: 65536,
    });
    const router: MessageRouter = {
      route(topic, payload, receivedAt) {
        if (topic === 'sensors/boom/climate') throw new RangeError('decoder bug for this payload');
        return real.route(topic, payload, receivedAt);
      },
    };
    const { logger, lines } = memoryLogger();
    const spool = new MemorySpool({ maxBytes: 1 << 20, overflow: 'dropOldest', sinkCount: 2 });
    const stats = new SourceStats();
    const deadLetter = new DeadLetter({ topic: config.mqtt.deadLetterTopic, gatewayId: 'gw-boundary' });
    source = new MqttSource({
      config: config.mqtt,
      router,
      spool,
      stats,
      logger,
      collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
      deadLetter,
    });
    source.start();
    await waitFor(() => source.connected, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200)); // the subscription

    for (let i = 0; i < 10; i++) await pub.publish(`sensors/d${i}/climate`, `{"t":${i}}`, 1);
    // QoS 1: publish resolves on the PUBACK, so this proves the message was acknowledged (never redelivered).
    await pub.publish('sensors/boom/climate', '{"t":99}', 1);
    for (let i = 10; i < 20; i++) await pub.publish(`sensors/d${i}/climate`, `{"t":${i}}`, 1);

    await waitFor(() => stats.accepted === 20 && deadLetters.length === 1, {
      timeoutMs: 10_000,
      message: () => `accepted ${stats.accepted}, rejected ${stats.rejected}, dead letters ${deadLetters.length}`,
    });
    assert.equal(stats.received, 21);
    assert.equal(stats.rejected, 1);
    assert.equal(stats.rejectedByReason.get('internal_error'), 1);
    assert.equal(deadLetters[0]!.reason, 'internal_error');
    assert.equal(deadLetters[0]!.topic, 'sensors/boom/climate');
    assert.equal(deadLetters[0]!.payload, '{"t":99}');
    assert.match(deadLetters[0]!.detail, /RangeError: decoder bug for this payload/);
    assert.ok(source.connected, 'still connected');
    const batch = spool.cursor(0).read({ maxPoints: 100, maxBytes: 1 << 20 })!;
    assert.equal(entryLines(batch).length, 20, 'every other message is in the spool');
    assert.ok(
      lines().some((l) => JSON.stringify(l).includes('decoder bug')),
      'logged with the error',
    );
  });
});
