import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { mqttSourceOptions } from '../../fakes/mqttSourceOptions.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

/** mqtt.js as far as a renewal goes: options read at connect, reconnect() = close (DISCONNECT) then connect. */
class FakeClient extends EventEmitter {
  connected = false;
  stream = { writableNeedDrain: false, destroyed: 0, destroy: () => void this.stream.destroyed++ };
  options: Record<string, unknown> = { ca: Buffer.from('old-ca'), cert: Buffer.from('old-cert'), key: Buffer.from('old-key') };
  /** The cert of each connection made. */
  readonly connectedWith: string[] = [];
  handleMessage = (): void => undefined;
  subscribe(_t: string, _o: unknown, cb: (e: Error | null, g: { topic: string; qos: number }[]) => void): void {
    cb(null, [{ topic: _t, qos: 1 }]);
  }
  unsubscribe(): void {}
  publish(): void {}
  async publishAsync(): Promise<void> {}
  async endAsync(): Promise<void> {
    this.connected = false;
  }
  reschedulePing(): void {}
  reconnects = 0;
  /** Connects (the broker answers): `connect` with the options as they are now. */
  connectNow(): void {
    this.connected = true;
    this.connectedWith.push(String(this.options['cert']));
    this.emit('connect', { sessionPresent: true });
  }
  reconnect(): void {
    this.reconnects++;
    if (this.connected) {
      this.connected = false;
      this.emit('close');
    }
    setImmediate(() => this.connectNow());
  }
}

function source(client: FakeClient, stats = new SourceStats()) {
  const { logger, lines } = memoryLogger('info');
  return { s: new MqttSource(mqttSourceOptions(client, logger, { stats })), lines };
}

const renewed = { cert: Buffer.from('new-cert'), key: Buffer.from('new-key'), rejectUnauthorized: true };

describe('MqttSource.renewTls', () => {
  it('connected: reconnects at once with the new material, counted as one disconnect and one connect, logged at info', async () => {
    const client = new FakeClient();
    const stats = new SourceStats();
    const { s, lines } = source(client, stats);
    s.start();
    client.connectNow();
    assert.equal(await s.renewTls(renewed, 5000), true);
    assert.deepEqual(client.connectedWith, ['old-cert', 'new-cert']);
    assert.equal('ca' in client.options, false, 'a key the new files lack is removed');
    assert.equal(s.state.kind, 'connected');
    assert.equal(stats.connects, 2);
    assert.equal(stats.disconnects, 1);
    assert.equal(client.reconnects, 1, 'no second reconnect from a reconnect timer');
    assert.ok(!lines().some((l) => l.level === 40 && l.msg === 'mqtt disconnected'), 'not warned about: it is on purpose');
    assert.ok(lines().some((l) => l.level === 30 && l.msg === 'mqtt disconnected'));
    await s.stop(Date.now());
  });

  it('connecting: the attempt under way (old material) finishes, then the same renewal', async () => {
    const client = new FakeClient();
    const { s } = source(client);
    s.start();
    const renewal = s.renewTls(renewed, 5000);
    setImmediate(() => client.connectNow());
    assert.equal(await renewal, true);
    // The fake's first connect reads the options late; mqtt.js's had read the old ones at its handshake.
    assert.equal(client.connectedWith.length, 2, 'connected, then connected again');
    assert.equal(client.reconnects, 1);
    await s.stop(Date.now());
  });

  it('not back within the timeout: false, and a DISCONNECT that never completes does not hold the connection', async () => {
    const client = new FakeClient();
    const { s } = source(client);
    s.start();
    client.connectNow();
    client.reconnect = () => {}; // mqtt.js waits for an acknowledgement that never comes
    assert.equal(await s.renewTls(renewed, 50), false);
    assert.equal(client.stream.destroyed, 1, 'the socket is closed instead');
    await s.stop(Date.now());
  });
});
