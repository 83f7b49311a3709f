import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../src/log/CollapsingLog.ts';
import { MqttSource } from '../../src/source/MqttSource.ts';
import type { Spool } from '../../src/spool/Spool.ts';
import { SourceStats } from '../../src/stats/SourceStats.ts';
import { memoryLogger } from '../fakes/silentLogger.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/Mosquitto.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The retained message on `topic` as a fresh subscriber sees it. */
async function retained(url: string, topic: string): Promise<string | undefined> {
  const c = await mqtt.connectAsync(url, { clientId: `probe-${Math.random()}` });
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1000);
      c.on('message', (_t, payload) => {
        clearTimeout(timer);
        resolve(payload.toString());
      });
      void c.subscribeAsync(topic, { qos: 1 });
    });
  } finally {
    await c.endAsync();
  }
}

describe('MqttSource: stop() while a TLS renewal reconnects (real Mosquitto)', () => {
  let broker: MosquittoHandle;
  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await broker.stop();
  });

  it('no connection is made after the stop, and the retained status stays offline', async () => {
    const { logger } = memoryLogger('silent');
    const config = loadConfig({
      argv: [],
      env: { EDGEBRIDGE_MQTT_URL: broker.url, EDGEBRIDGE_MQTT_STATUS_TOPIC: 'gw/status', EDGEBRIDGE_MQTT_CLIENT_ID: 'race' },
      hostname: 'gw',
    }).mqtt;
    const stats = new SourceStats();
    const source = new MqttSource({
      config,
      router: { route: () => ({ kind: 'unrouted' }) },
      spool: { append: () => true, flush: () => true, discards: 0, syncBeforeAck: false } as unknown as Spool,
      stats,
      logger,
      collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    });
    source.start();
    for (let i = 0; i < 100 && !stats.connected; i++) await sleep(20);
    assert.equal(stats.connected, true);
    await sleep(200); // the 'online' status is out
    const renewal = source.renewTls(undefined, 1500);
    await source.stop(Date.now() + 4000);
    const connectsAtStop = stats.connects;
    await sleep(500);
    assert.equal(stats.connects, connectsAtStop, 'no connection made after stop() returned');
    assert.equal(stats.connected, false, 'not connected after the stop');
    assert.equal(await retained(broker.url, 'gw/status'), 'offline');
    await renewal;
  });
});
