import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startServers, connectPublisher, waitFor } from '../harness/index.ts';
import type { OutgoingMessage, Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * issue 12 item 2, end to end with the defaults: a JSON object of 4 100 short fields (29 KB, inside the 64 KiB
 * payload limit) on `sensors/p1/poison` among 3 000 normal messages. Before, Redis answered "too many results to
 * unpack", the whole batch was rejected, and the other devices' points in it never reached Redis.
 * The router's own limit (mqtt.maxFieldsPerPoint, 1000 by default) now refuses such a message before any sink sees
 * it; it is raised here so that the sink's own defence is what is tested (an operator may raise the limit).
 */
describe('one poison device among normal ones (real Mosquitto, Redis, VictoriaMetrics; gateway process)', () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let pub: Publisher;
  let redis: Redis;

  before(async () => {
    servers = await startServers();
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_GATEWAY_ID: 'gw-poison',
        EDGEBRIDGE_MQTT_MAX_FIELDS_PER_POINT: '10000',
        EDGEBRIDGE_INFLUX_TOKEN: 't',
        EDGEBRIDGE_INFLUX_ORG: 'o',
        EDGEBRIDGE_INFLUX_BUCKET: 'b',
      },
    });
    pub = await connectPublisher(servers.mq.url);
    redis = new Redis(servers.rd.url);
  });
  after(async () => {
    await pub?.end(true);
    redis?.disconnect();
    await gw?.stop();
    await servers?.destroy();
  });

  it("every normal device's point lands in Redis; only the poison point is rejected, counted", async () => {
    const poison: Record<string, number> = {};
    for (let i = 0; i < 4100; i++) poison[`f${i}`] = 1;
    const messages: OutgoingMessage[] = [];
    for (let i = 0; i < 3000; i++) {
      messages.push({ topic: `sensors/d${i % 100}/climate`, payload: `{"t":${i},"ts":${1_700_000_000_000 + i}}` });
      if (i === 1500) messages.push({ topic: 'sensors/p1/poison', payload: JSON.stringify(poison) });
    }
    await pub.publishMany(messages, { qos: 1 });
    let sinks = '';
    await waitFor(
      async () => {
        const status = await gw.status();
        sinks = JSON.stringify(status.sinks);
        const redisSink = status.sinks.find((s) => s.name === 'redis')!;
        return redisSink.pointsWritten + redisSink.pointsRejected >= 3001;
      },
      { timeoutMs: 30_000, message: () => sinks },
    );
    const redisSink = (await gw.status()).sinks.find((s) => s.name === 'redis')!;
    assert.equal(redisSink.pointsWritten, 3000);
    assert.equal(redisSink.pointsRejected, 1);
    assert.equal(await redis.xlen('eb:stream:{climate}'), 3000);
    for (let d = 0; d < 100; d++) assert.equal(await redis.hget(`eb:latest:{d${d}}:climate`, 't'), String(2900 + d), `device d${d}`);
    assert.equal(await redis.exists('eb:stream:{poison}'), 0);
    const influx = (await gw.status()).sinks.find((s) => s.name === 'influx')!;
    await waitFor(async () => (await gw.status()).sinks.find((s) => s.name === 'influx')!.pointsWritten === 3001, { timeoutMs: 30_000 });
    assert.equal(influx.pointsRejected, 0, 'InfluxDB takes the wide point');
  });
});
