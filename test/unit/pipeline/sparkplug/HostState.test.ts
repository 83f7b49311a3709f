import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { HostState } from '../../../../src/pipeline/sparkplug/HostState.ts';
import { hostStatePayload, hostStateTopic, readHostState } from '../../../../src/pipeline/sparkplug/hostStateMessage.ts';
import { memoryLogger } from '../../../fakes/silentLogger.ts';

interface Sent {
  readonly topic: string;
  readonly payload: string;
  readonly qos: number | undefined;
  readonly retain: boolean | undefined;
}

/** The part of mqtt.js's client HostState uses; what it publishes is kept. */
class FakeClient {
  connected = true;
  readonly sent: Sent[] = [];
  publish(topic: string, payload: Buffer, opts: { qos?: number; retain?: boolean }, cb?: (error?: Error) => void): void {
    this.sent.push({ topic, payload: payload.toString(), qos: opts.qos, retain: opts.retain });
    cb?.();
  }
  async publishAsync(topic: string, payload: Buffer, opts: { qos?: number; retain?: boolean }): Promise<void> {
    this.publish(topic, payload, opts);
  }
  get asClient(): MqttClient {
    return this as unknown as MqttClient;
  }
}

function host(start = 1_700_000_000_000) {
  const clock = { t: start };
  const state = new HostState({ hostId: 'scada', logger: memoryLogger('silent').logger, now: () => clock.t });
  return { state, clock, client: new FakeClient() };
}

const json = (s: Sent | undefined): unknown => (s === undefined ? undefined : JSON.parse(s.payload));

describe('the STATE message (Sparkplug 3.0: JSON, online and timestamp)', () => {
  it('topic and payload bytes', () => {
    assert.equal(hostStateTopic('scada'), 'spBv1.0/STATE/scada');
    assert.equal(hostStatePayload(true, 1_700_000_000_123).toString(), '{"online":true,"timestamp":1700000000123}');
    assert.equal(hostStatePayload(false, 5).toString(), '{"online":false,"timestamp":5}');
  });

  it('reads 3.0 payloads back; anything else is not a STATE', () => {
    assert.deepEqual(readHostState(Buffer.from('{"online":false,"timestamp":12}')), { online: false, timestamp: 12 });
    assert.deepEqual(readHostState(Buffer.from('{"timestamp":12,"online":true}')), { online: true, timestamp: 12 });
    for (const bad of ['OFFLINE', 'ONLINE', '', '{"online":"false","timestamp":1}', '{"online":false}', 'null', '[false,1]', '\xff'])
      assert.equal(readHostState(Buffer.from(bad)), undefined, bad);
  });
});

describe('HostState: Will, birth, death of the gateway as a Sparkplug host', () => {
  it('the Will is the death stamped at the CONNECT; the birth after the subscriptions repeats that timestamp', () => {
    const { state, clock, client } = host();
    assert.deepEqual(state.subscriptions, [{ topic: 'spBv1.0/STATE/scada', qos: 1 }]);
    const will = state.will();
    assert.equal(will.topic, 'spBv1.0/STATE/scada');
    assert.equal(will.qos, 1);
    assert.equal(will.retain, true);
    assert.deepEqual(JSON.parse(String(will.payload)), { online: false, timestamp: 1_700_000_000_000 });
    assert.equal(client.sent.length, 0, 'nothing before the subscriptions are granted');
    clock.t += 250; // SUBACK comes later: the birth still carries the Will's time
    state.subscribed(client.asClient);
    assert.equal(client.sent.length, 1);
    const [birth] = client.sent;
    assert.deepEqual(
      { ...birth, payload: json(birth) },
      {
        topic: 'spBv1.0/STATE/scada',
        payload: { online: true, timestamp: 1_700_000_000_000 },
        qos: 1,
        retain: true,
      },
    );
    assert.deepEqual(state.life.kind, 'online');
  });

  it('each reconnect: a new Will with a new timestamp, and the birth that follows carries it', () => {
    const { state, clock, client } = host();
    state.will();
    state.subscribed(client.asClient);
    clock.t += 30_000; // the broker went away and came back
    const second = state.will();
    assert.deepEqual(JSON.parse(String(second.payload)), { online: false, timestamp: 1_700_000_030_000 });
    state.subscribed(client.asClient);
    assert.deepEqual(client.sent.map(json), [
      { online: true, timestamp: 1_700_000_000_000 },
      { online: true, timestamp: 1_700_000_030_000 },
    ]);
  });

  it('timestamps only go forward, even when the clock steps back', () => {
    const { state, clock } = host();
    const first = JSON.parse(String(state.will().payload)) as { timestamp: number };
    clock.t -= 60_000;
    const second = JSON.parse(String(state.will().payload)) as { timestamp: number };
    assert.equal(second.timestamp, first.timestamp + 1);
  });

  it('a second grant on the same connection (a reload subscribing) publishes no second birth', () => {
    const { state, client } = host();
    state.will();
    state.subscribed(client.asClient);
    state.subscribed(client.asClient);
    assert.equal(client.sent.length, 1);
  });

  it('a death on its own topic while online is answered by the birth again, with the same timestamp', () => {
    const { state, clock, client } = host();
    state.will();
    state.subscribed(client.asClient);
    clock.t += 5000;
    // The Will of an earlier connection, fired late by the broker over our retained birth.
    state.observe('spBv1.0/STATE/scada', hostStatePayload(false, 1_699_999_000_000));
    assert.deepEqual(client.sent.map(json), [
      { online: true, timestamp: 1_700_000_000_000 },
      { online: true, timestamp: 1_700_000_000_000 },
    ]);
    assert.equal(client.sent[1]!.retain, true);
  });

  it('leaves alone: its own birth coming back, other hosts, 2.x strings, bad bytes, and deaths while not online', () => {
    const { state, client } = host();
    state.observe('spBv1.0/STATE/scada', hostStatePayload(false, 1)); // idle
    state.will();
    state.observe('spBv1.0/STATE/scada', hostStatePayload(false, 1)); // connecting: the birth is still to come
    state.subscribed(client.asClient);
    state.observe('spBv1.0/STATE/scada', hostStatePayload(true, 1_700_000_000_000));
    state.observe('spBv1.0/STATE/other', hostStatePayload(false, 1));
    state.observe('spBv1.0/STATE/scada', Buffer.from('OFFLINE'));
    state.observe('spBv1.0/STATE/scada', Buffer.from('{'));
    state.observe('spBv1.0/plant/NDATA/scada', hostStatePayload(false, 1));
    assert.equal(client.sent.length, 1, 'only the birth');
    client.connected = false; // the connection dropped; the next one has its own birth
    state.observe('spBv1.0/STATE/scada', hostStatePayload(false, 1));
    assert.equal(client.sent.length, 1);
  });

  it("the clean stop: the death stamped at the stop (not the Will's time), QoS 1 retained; then nothing more", async () => {
    const { state, clock, client } = host();
    state.will();
    state.subscribed(client.asClient);
    clock.t += 90_000;
    await state.stopping(client.asClient);
    assert.deepEqual(client.sent.at(-1), {
      topic: 'spBv1.0/STATE/scada',
      payload: '{"online":false,"timestamp":1700000090000}',
      qos: 1,
      retain: true,
    });
    assert.equal(state.life.kind, 'stopped');
    state.observe('spBv1.0/STATE/scada', hostStatePayload(false, 1700000090000)); // our own death coming back
    state.subscribed(client.asClient);
    assert.equal(client.sent.length, 2, 'birth and death only');
  });

  it('a stop without a connection publishes nothing (the broker has the Will)', async () => {
    const { state, client } = host();
    state.will();
    client.connected = false;
    await state.stopping(client.asClient);
    assert.equal(client.sent.length, 0);
  });

  it('no birth on a client that is not connected (it would be queued and sent late, with an old timestamp)', () => {
    const { state, client } = host();
    state.will();
    client.connected = false;
    state.subscribed(client.asClient);
    assert.equal(client.sent.length, 0);
  });
});
