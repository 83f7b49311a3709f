import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import type { Entry } from '../../../src/spool/Entry.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { mqttSourceOptions } from '../../fakes/mqttSourceOptions.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

class FakeStream {
  destroyed = 0;
  writableNeedDrain = false;
  cork(): void {}
  uncork(): void {}
  destroy(): void {
    this.destroyed++;
  }
}

class FakeClient extends EventEmitter {
  connected = true;
  stream = new FakeStream();
  handleMessage: (packet: IPublishPacket, done: (error?: Error) => void) => void = () => undefined;
  reschedulePing(): void {}
  subscribe(): void {}
  publish(): void {}
  end(): void {}
}

const ENTRY: Entry = { lines: 'm,device=d t=1 1', points: 1, sinks: 0b1, receivedAt: 1 };
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('MqttSource ack=fsync: the spool cannot make a record durable (a failed fdatasync)', () => {
  it('drops the connection (the broker redelivers what it holds unacknowledged), logs the error, sends no PUBACK', async () => {
    const client = new FakeClient();
    const { logger, lines } = memoryLogger('info');
    const waiters: ((error?: Error | null) => void)[] = [];
    const spool = {
      append: () => true,
      flush: () => true,
      discards: 0,
      syncBeforeAck: true,
      sync: (cb: (error?: Error | null) => void) => waiters.push(cb),
    } as unknown as Spool;
    const source = new MqttSource({ ...mqttSourceOptions(client, logger), spool, router: { route: () => ({ kind: 'ok', entry: ENTRY }) } });
    source.start();
    client.emit('connect', { sessionPresent: true });
    const acks: (Error | undefined)[] = [];
    for (let id = 1; id <= 3; id++)
      client.handleMessage(
        { cmd: 'publish', topic: 'sensors/d/m', payload: Buffer.from('{"t":1}'), qos: 1, dup: false, retain: false, messageId: id },
        (error) => acks.push(error),
      );
    await tick();
    assert.equal(waiters.length, 3);
    for (const w of waiters) w(Object.assign(new Error('EIO: injected fdatasync'), { code: 'EIO' }));
    assert.ok(
      acks.every((e) => e instanceof Error),
      'no message acknowledged',
    );
    // Without a reconnect the broker never redelivers them, and they hold its in-flight window on this connection.
    assert.ok(client.stream.destroyed >= 1, 'the connection is dropped');
    assert.ok(
      lines().some((l) => Number(l.level) >= 50 && /EIO: injected fdatasync/.test(JSON.stringify(l))),
      'the error is logged',
    );
  });
});

describe('MqttSource ack=write, overflow=block: a message appended once the spool has room again', () => {
  function blocked(writeFails: boolean) {
    const events: string[] = [];
    const client = new FakeClient();
    let corked = false;
    client.stream.cork = () => {
      corked = true;
      events.push('cork');
    };
    client.stream.uncork = () => {
      corked = false;
      events.push('uncork');
    };
    const { logger } = memoryLogger('silent');
    let room = false;
    let writable: (() => void) | undefined;
    let discarded = false;
    const spool = {
      append: () => room,
      whenWritable: () => new Promise<void>((resolve) => (writable = resolve)),
      flush: () => {
        events.push('write');
        const ok = !(writeFails && room) && !discarded;
        discarded = false;
        return ok;
      },
      discards: 0,
      syncBeforeAck: false,
    } as unknown as Spool;
    const source = new MqttSource({ ...mqttSourceOptions(client, logger), spool, router: { route: () => ({ kind: 'ok', entry: ENTRY }) } });
    source.start();
    client.emit('connect', { sessionPresent: true });
    client.handleMessage(
      { cmd: 'publish', topic: 'sensors/d/m', payload: Buffer.from('{"t":1}'), qos: 1, dup: false, retain: false, messageId: 1 },
      (error) => events.push(error ? 'no-ack' : corked ? 'ack(corked)' : 'ack'),
    );
    const free = () => {
      room = true;
      writable?.();
    };
    return { client, events, free };
  }

  /** When the PUBACK reaches the socket: at the ack, or at the uncork after an ack written into the corked socket. */
  function wireAt(events: string[]): number {
    const ack = events.findIndex((e) => e.startsWith('ack'));
    if (ack < 0) return -1;
    return events[ack] === 'ack' ? ack : events.indexOf('uncork', ack);
  }

  it('its PUBACK leaves after its record is written (write(2)), not while it is still in the pending buffer', async () => {
    const s = blocked(false);
    await tick();
    s.events.length = 0; // the first burst (nothing appended in it)
    s.free();
    await tick();
    await tick();
    const wire = wireAt(s.events);
    assert.ok(wire >= 0, `acknowledged: ${s.events.join(' ')}`);
    const write = s.events.indexOf('write');
    assert.ok(write >= 0 && write < wire, `written before the PUBACK leaves: ${s.events.join(' ')}`);
  });

  it('a record that could not be written is not acknowledged: the connection is dropped', async () => {
    const s = blocked(true);
    await tick();
    s.events.length = 0;
    const destroyedBefore = s.client.stream.destroyed;
    s.free();
    await tick();
    await tick();
    assert.equal(wireAt(s.events), -1, `no PUBACK on the wire: ${s.events.join(' ')}`);
    assert.ok(s.client.stream.destroyed > destroyedBefore);
  });
});
