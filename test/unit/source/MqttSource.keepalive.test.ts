import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

/** The fake's side of mqtt.js that MqttSource uses, plus a count of keepalive timer resets. */
class FakeClient extends EventEmitter {
  connected = true;
  stream = undefined;
  reschedules = 0;
  handleMessage: (packet: IPublishPacket, done: (error?: Error) => void) => void = () => undefined;
  reschedulePing(): void {
    this.reschedules++;
  }
  subscribe(): void {}
  publish(): void {}
  end(): void {}
}

function publish(qos: 0 | 1 | 2): IPublishPacket {
  return { cmd: 'publish', topic: 'sensors/d1/climate', payload: Buffer.from('{"t":1}'), qos, dup: false, retain: false, messageId: 1 };
}

/**
 * Regression (found by the bulk run): mqtt.js counts only acknowledgements and PINGRESP as signs of life, so under a
 * long broker backlog it dropped a healthy connection with "Keepalive timeout" and the broker redelivered what was
 * in flight. QoS 1/2 messages now push the keepalive timer back, at most once a second.
 */
describe('MqttSource keepalive', () => {
  it('pushes the ping back on QoS 1/2 messages (once a second at most), not on QoS 0', async () => {
    let now = 1_000_000;
    const client = new FakeClient();
    const { logger } = memoryLogger('silent');
    const spool = { append: () => true, flush: () => true, syncBeforeAck: false } as unknown as Spool;
    const source = new MqttSource({
      config: loadConfig({ argv: [], env: {}, hostname: 'gw' }).mqtt,
      router: { route: () => ({ kind: 'unrouted' }) },
      spool,
      stats: new SourceStats(),
      logger,
      collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
      connect: () => client as unknown as MqttClient,
      now: () => now,
    });
    source.start();
    const deliver = (qos: 0 | 1 | 2) => new Promise<void>((resolve) => client.handleMessage(publish(qos), () => resolve()));
    await deliver(0);
    assert.equal(client.reschedules, 0, 'QoS 0: nothing is sent back, so nothing proves the broker hears us');
    await deliver(1);
    assert.equal(client.reschedules, 1);
    now += 500;
    await deliver(1);
    assert.equal(client.reschedules, 1, 'at most once a second');
    now += 600;
    await deliver(2);
    assert.equal(client.reschedules, 2);
  });
});
