import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { IClientOptions, MqttClient } from 'mqtt';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import type { ConnectionPresence, Will } from '../../../src/source/ConnectionPresence.ts';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

type SubscribeCallback = (error: Error | null, granted?: { topic: string; qos: number }[]) => void;

/** mqtt.js's client as far as MqttSource uses it; every call is recorded in order. */
class FakeClient extends EventEmitter {
  connected = true;
  stream = undefined;
  options: IClientOptions;
  handleMessage: (packet: unknown, done: () => void) => void = () => undefined;
  readonly calls: string[] = [];
  readonly subscribes: { topic: string; cb: SubscribeCallback }[] = [];
  constructor(options: IClientOptions) {
    super();
    this.options = options;
  }
  subscribe(topic: string, _opts: unknown, cb: SubscribeCallback): void {
    this.calls.push(`subscribe ${topic}`);
    this.subscribes.push({ topic, cb });
  }
  unsubscribe(): void {}
  reschedulePing(): void {}
  publish(topic: string): void {
    this.calls.push(`publish ${topic}`);
  }
  async endAsync(): Promise<void> {
    this.calls.push('disconnect');
  }
  end(): void {}
  grantAll(): void {
    for (const s of this.subscribes.splice(0)) s.cb(null, [{ topic: s.topic, qos: 1 }]);
  }
}

/** A presence that says what it is asked, stamping each Will with a counter. */
class RecordingPresence implements ConnectionPresence {
  readonly subscriptions = [{ topic: 'spBv1.0/STATE/scada', qos: 1 as const }];
  readonly events: string[] = [];
  #wills = 0;
  will(): Will {
    this.#wills++;
    this.events.push(`will ${this.#wills}`);
    return { topic: 'spBv1.0/STATE/scada', payload: Buffer.from(`death ${this.#wills}`), qos: 1, retain: true };
  }
  subscribed(): void {
    this.events.push('subscribed');
  }
  async stopping(client: MqttClient): Promise<void> {
    this.events.push('stopping');
    client.publish('spBv1.0/STATE/scada', 'death');
  }
}

function source(presence: ConnectionPresence | undefined, logger = memoryLogger('silent').logger) {
  const stats = new SourceStats();
  const env = { EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'spBv1.0/#:1', EDGEBRIDGE_MQTT_STATUS_TOPIC: '' };
  let client: FakeClient | undefined;
  const s = new MqttSource({
    config: loadConfig({ argv: [], env, hostname: 'gw' }).mqtt,
    router: { route: () => ({ kind: 'unrouted' }) },
    spool: { append: () => true, flush: () => true, syncBeforeAck: false } as unknown as Spool,
    stats,
    logger,
    collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    ...(presence === undefined ? {} : { presence }),
    connect: (_url, options) => {
      client = new FakeClient(options);
      return client as unknown as MqttClient;
    },
  });
  s.start();
  return { s, client: client!, stats };
}

describe('MqttSource with a presence (the Sparkplug host STATE)', () => {
  it("the first CONNECT carries the presence's Will; every reconnect gets a new one before mqtt.js builds its CONNECT", () => {
    const presence = new RecordingPresence();
    const { client } = source(presence);
    assert.equal(String(client.options.will?.payload), 'death 1');
    client.emit('reconnect'); // mqtt.js: emitted right before connect() reads client.options
    assert.equal(String(client.options.will?.payload), 'death 2');
    assert.deepEqual(presence.events, ['will 1', 'will 2']);
  });

  it('subscribes its topic with the configured filters; the birth waits for every grant', () => {
    const presence = new RecordingPresence();
    const { client } = source(presence);
    client.emit('connect', { sessionPresent: false });
    assert.deepEqual(client.calls, ['subscribe spBv1.0/#', 'subscribe spBv1.0/STATE/scada']);
    client.subscribes.shift()!.cb(null, [{ topic: 'spBv1.0/#', qos: 1 }]);
    assert.deepEqual(presence.events, ['will 1'], 'one filter still unanswered');
    client.grantAll();
    assert.deepEqual(presence.events, ['will 1', 'subscribed']);
  });

  it('no birth when a filter is refused (the host would not read what it calls edge nodes to publish)', () => {
    const presence = new RecordingPresence();
    const { client } = source(presence);
    client.emit('connect', { sessionPresent: false });
    client.subscribes.shift()!.cb(null, [{ topic: 'spBv1.0/#', qos: 128 }]);
    client.grantAll();
    assert.deepEqual(presence.events, ['will 1']);
  });

  it('the clean stop: the death before the DISCONNECT', async () => {
    const presence = new RecordingPresence();
    const { s, client } = source(presence);
    client.emit('connect', { sessionPresent: false });
    client.grantAll();
    await s.stop();
    assert.deepEqual(client.calls.slice(-2), ['publish spBv1.0/STATE/scada', 'disconnect']);
    assert.deepEqual(presence.events.at(-1), 'stopping');
  });

  it('while stopping, its own STATE coming back and QoS 0 messages are let through; other QoS 1 messages stay held', async () => {
    const presence = new RecordingPresence();
    const { s, client } = source(presence);
    client.emit('connect', { sessionPresent: false });
    client.grantAll();
    await s.stop();
    const done: string[] = [];
    const deliver = (topic: string, qos: number): void =>
      client.handleMessage({ cmd: 'publish', topic, qos, payload: Buffer.from('x') }, () => done.push(`${topic} ${qos}`));
    deliver('spBv1.0/STATE/scada', 1); // our own death, through spBv1.0/# at QoS 1: its PUBACK waits behind it
    deliver('spBv1.0/plant/NDATA/edge1', 0); // never redelivered: holding it would keep nothing
    deliver('spBv1.0/plant/NDATA/edge1', 1); // left to the broker to redeliver to the session
    assert.deepEqual(done, ['spBv1.0/STATE/scada 1', 'spBv1.0/plant/NDATA/edge1 0']);
  });

  it('its own STATE coming back is counted unrouted, without the "matches no route" warning', () => {
    const presence = new RecordingPresence();
    const { logger, lines } = memoryLogger('warn');
    const { client, stats } = source(presence, logger);
    client.emit('connect', { sessionPresent: false });
    client.handleMessage({ cmd: 'publish', topic: 'spBv1.0/STATE/scada', qos: 1, payload: Buffer.from('{}') }, () => {});
    client.handleMessage({ cmd: 'publish', topic: 'spBv1.0/STATE/other', qos: 1, payload: Buffer.from('{}') }, () => {});
    assert.equal(stats.unrouted, 2);
    assert.deepEqual(
      lines().map((l) => [l.msg, l.topic]),
      [['message matches no route', 'spBv1.0/STATE/other']],
    );
  });

  it("without a presence: the status topic's Will as before, no reconnect listener", () => {
    const { client } = source(undefined);
    assert.equal(client.options.will, undefined, 'status topic off in this config');
    assert.equal(client.listenerCount('reconnect'), 0);
    client.emit('connect', { sessionPresent: false });
    assert.deepEqual(client.calls, ['subscribe spBv1.0/#']);
  });
});
