import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { ReconnectSchedule } from '../../../src/source/ReconnectSchedule.ts';
import { SourceLifecycle } from '../../../src/source/SourceLifecycle.ts';

function fakeClient(): MqttClient & { reconnects: number } {
  const c = { reconnects: 0, reconnect: () => void c.reconnects++ };
  return c as unknown as MqttClient & { reconnects: number };
}

function lifecycle(): SourceLifecycle {
  return new SourceLifecycle(new ReconnectSchedule({ minMs: 100, maxMs: 100 }));
}

describe('SourceLifecycle', () => {
  it('idle → connecting → connected → waiting → connecting, a new connection number after every close', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const l = lifecycle();
      const client = fakeClient();
      assert.equal(l.state.kind, 'idle');
      assert.equal(l.connection(), -1);
      l.on({ kind: 'start', client });
      assert.deepEqual(l.state, { kind: 'connecting', client, connection: 0 });
      l.on({ kind: 'connect' });
      assert.deepEqual(l.state, { kind: 'connected', client, connection: 0 });
      assert.equal(l.holds(0), true);
      assert.equal(l.on({ kind: 'close' }).kind, 'connected', 'returns the state it left');
      assert.equal(l.state.kind, 'waiting');
      assert.equal(l.connection(), 1);
      assert.equal(l.holds(0), false, 'a message held across the dead connection is never acknowledged on the next');
      assert.equal(client.reconnects, 0);
      mock.timers.tick(100);
      assert.equal(client.reconnects, 1);
      assert.equal(l.state.kind, 'connecting');
      assert.equal(l.connection(), 1);
      l.on({ kind: 'close' }); // a failed attempt: another number, another timer
      assert.equal(l.connection(), 2);
    } finally {
      mock.timers.reset();
    }
  });

  it('stop is final: no reconnect, no held acknowledgement, a connect or close only updates the counts', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const l = lifecycle();
      const client = fakeClient();
      l.on({ kind: 'start', client });
      l.on({ kind: 'connect' });
      l.on({ kind: 'close' });
      l.on({ kind: 'stop' });
      mock.timers.tick(1000);
      assert.equal(client.reconnects, 0, 'the reconnect timer was cleared');
      assert.deepEqual(l.state, { kind: 'stopped', client, connection: 1, connected: false });
      assert.equal(l.holds(1), false);
      l.on({ kind: 'connect' });
      assert.deepEqual(l.state, { kind: 'stopped', client, connection: 1, connected: true });
      l.on({ kind: 'close' });
      assert.deepEqual(l.state, { kind: 'stopped', client, connection: 2, connected: false });
      l.on({ kind: 'retry' });
      assert.equal(l.state.kind, 'stopped');
      assert.throws(() => l.on({ kind: 'start', client }), /already stopped/);
    } finally {
      mock.timers.reset();
    }
  });

  it('stop before start needs no client', () => {
    const l = lifecycle();
    assert.equal(l.on({ kind: 'stop' }).kind, 'idle');
    assert.deepEqual(l.state, { kind: 'stopped', client: undefined, connection: 0, connected: false });
  });
  it('renew: connected → renewing → (its close) connecting at once, no reconnect delay, a new connection number', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const l = lifecycle();
      const client = fakeClient();
      l.on({ kind: 'start', client });
      l.on({ kind: 'renew' });
      assert.equal(l.state.kind, 'connecting', 'only a connection that is up is renewed');
      l.on({ kind: 'connect' });
      l.on({ kind: 'renew' });
      assert.deepEqual(l.state, { kind: 'renewing', client, connection: 0 });
      assert.equal(l.holds(0), true, 'until the close, a held acknowledgement still goes out on its connection');
      assert.equal(l.on({ kind: 'close' }).kind, 'renewing');
      assert.deepEqual(l.state, { kind: 'connecting', client, connection: 1 });
      assert.equal(l.holds(0), false, 'never acknowledged on the renewed connection: the broker redelivers it');
      mock.timers.tick(10_000);
      assert.equal(client.reconnects, 0, 'mqtt.js reconnect() connects by itself: no timer of ours');
      l.on({ kind: 'connect' });
      assert.equal(l.state.kind, 'connected');
      l.on({ kind: 'renew' });
      l.on({ kind: 'stop' });
      assert.deepEqual(l.state, { kind: 'stopped', client, connection: 1, connected: true });
    } finally {
      mock.timers.reset();
    }
  });
});
