import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { DEAD_LETTER_SIZE_STEP, DeadLetter, isDeadLetterRecord } from '../../../src/source/DeadLetter.ts';

/**
 * Regression (found by the bulk run): mqtt-packet keeps one 64 KiB Buffer-pool slab alive per distinct packet size it
 * has written, so dead letters of every possible size grew RSS without a useful bound. Records are padded to a few
 * sizes; they stay exact JSON.
 */
describe('DeadLetter record sizes', () => {
  it('pads every record with spaces to a multiple of the size step, and the JSON reads back unchanged', () => {
    const sent: string[] = [];
    const client = {
      connected: true,
      publish: (_topic: string, record: string, _opts: unknown, cb: (e?: Error) => void) => {
        sent.push(record);
        cb();
      },
    } as unknown as MqttClient;
    const dl = new DeadLetter({ topic: 'edgebridge/gw/deadletter', gatewayId: 'gw', now: () => 0 });
    dl.attach(client);
    for (let n = 0; n <= 6000; n += 7) {
      const payload = n % 2 === 0 ? Buffer.alloc(n, 0x61) : Buffer.alloc(n, 0xff);
      dl.offer('bad_json', `detail ${n} ü`, 'sensors/dev/m', payload);
    }
    const sizes = new Set<number>();
    for (const record of sent) {
      const bytes = Buffer.byteLength(record);
      assert.equal(bytes % DEAD_LETTER_SIZE_STEP, 0);
      sizes.add(bytes);
      const parsed = JSON.parse(record) as { reason: string; payloadBytes: number };
      assert.equal(parsed.reason, 'bad_json');
      assert.equal(record.trimEnd(), JSON.stringify(parsed), 'only trailing spaces are added');
    }
    assert.equal(dl.stats.published, sent.length);
    // 858 records of 858 different payload sizes: a few dozen packet sizes.
    assert.ok(sizes.size <= 30, `${sizes.size} distinct sizes`);
  });
});

/** issue 12 item 4: dead letters bounced between gateways forever. A dead letter is never dead-lettered again. */
describe('DeadLetter never re-publishes a dead letter', () => {
  function capture(): { dl: DeadLetter; sent: string[] } {
    const sent: string[] = [];
    const client = {
      connected: true,
      publish: (_topic: string, record: string, _opts: unknown, cb: (e?: Error) => void) => {
        sent.push(record);
        cb();
      },
    } as unknown as MqttClient;
    const dl = new DeadLetter({ topic: 'edgebridge/a/deadletter', gatewayId: 'a', now: () => 0 });
    dl.attach(client);
    return { dl, sent };
  }

  it("skips (and counts) its own topic and another gateway's record on any topic; other messages go out", () => {
    const { dl: other, sent: fromOther } = capture();
    other.offer('bad_number', 'not a number', 'sensors/d/m', Buffer.from('x'));
    const record = Buffer.from(fromOther[0]!);
    assert.equal(isDeadLetterRecord(record), true, 'padded with spaces, still a record');

    const { dl, sent } = capture();
    dl.offer('bad_number', 'detail', 'edgebridge/a/deadletter', Buffer.from('anything'));
    dl.offer('bad_number', 'detail', 'somewhere/else/dl', record);
    dl.offer('too_large', 'detail', 'edgebridge/b/deadletter', record);
    assert.equal(sent.length, 0);
    assert.deepEqual(dl.stats, { published: 0, dropped: 0, skipped: 3 });
    dl.offer('bad_json', 'detail', 'sensors/d/m', Buffer.from('{"gateway":"x"'));
    dl.offer('bad_json', 'detail', 'sensors/d/m', Buffer.from('{"gateway":"x","reason":"r"}'));
    assert.equal(sent.length, 2, 'not records: a broken one, one without the fields');
    assert.deepEqual(dl.stats, { published: 2, dropped: 0, skipped: 3 });
  });
});
