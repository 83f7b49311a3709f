import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import type { RouteResult } from '../../../src/pipeline/RouteResult.ts';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import type { Entry } from '../../../src/spool/Entry.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

class FakeClient extends EventEmitter {
  connected = true;
  stream = undefined;
  handleMessage: (packet: IPublishPacket, done: (error?: Error) => void) => void = () => undefined;
  reschedulePing(): void {}
  subscribe(): void {}
  publish(): void {}
  end(): void {}
}

const FULL: Entry = { lines: 'm,device=d t=1 1', points: 1, sinks: 0b10, receivedAt: 1 };
const THINNED: Entry = { lines: 'm,device=d t=1 1', points: 1, sinks: 0b01, receivedAt: 1 };

/** A source whose router answers `result`, over a spool that takes `room` appends, then one more per `free()`. */
function setup(result: RouteResult, room: number) {
  const client = new FakeClient();
  const { logger } = memoryLogger('silent');
  const appended: Entry[] = [];
  let writable: (() => void) | undefined;
  const spool = {
    append: (e: Entry) => {
      if (room === 0) return false;
      room--;
      appended.push(e);
      return true;
    },
    whenWritable: () => new Promise<void>((resolve) => (writable = resolve)),
    flush: () => true,
    syncBeforeAck: false,
  } as unknown as Spool;
  const stats = new SourceStats();
  const source = new MqttSource({
    config: loadConfig({ argv: [], env: {}, hostname: 'gw' }).mqtt,
    router: { route: () => result },
    spool,
    stats,
    logger,
    collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    connect: () => client as unknown as MqttClient,
  });
  source.start();
  client.emit('connect', { sessionPresent: true });
  const free = () => {
    room++;
    writable?.();
  };
  let acked = 0;
  const deliver = () =>
    client.handleMessage(
      { cmd: 'publish', topic: 'sensors/d/m', payload: Buffer.from('{"t":1}'), qos: 1, dup: false, retain: false, messageId: 1 },
      () => {
        acked++;
      },
    );
  return { appended, stats, free, deliver, acked: () => acked };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('MqttSource with a deadband route', () => {
  it('appends both records of a thinned message, then acknowledges it once', async () => {
    const s = setup({ kind: 'ok', entry: FULL, also: THINNED, suppressed: 1 }, 10);
    s.deliver();
    await tick();
    assert.deepEqual(s.appended, [FULL, THINNED]);
    assert.equal(s.acked(), 1);
    assert.equal(s.stats.accepted, 1);
  });

  it('a full spool (block): the second record waits too, and the acknowledgement waits for both', async () => {
    const s = setup({ kind: 'ok', entry: FULL, also: THINNED, suppressed: 1 }, 1);
    s.deliver();
    await tick();
    assert.deepEqual(s.appended, [FULL]);
    assert.equal(s.acked(), 0, 'not acknowledged while a record is not spooled');
    s.free();
    await tick();
    await tick();
    assert.deepEqual(s.appended, [FULL, THINNED]);
    assert.equal(s.acked(), 1);
    assert.equal(s.stats.blocked, 0);
  });

  it('every value held back: nothing is spooled, the message is acknowledged and counted as decoded', async () => {
    const s = setup({ kind: 'suppressed', suppressed: 2 }, 10);
    s.deliver();
    await tick();
    assert.deepEqual(s.appended, []);
    assert.equal(s.acked(), 1);
    assert.equal(s.stats.accepted, 1);
  });
});
