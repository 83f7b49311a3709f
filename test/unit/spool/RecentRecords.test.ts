import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { DiskSpool } from '../../../src/spool/disk/DiskSpool.ts';
import type { Batch } from '../../../src/spool/Batch.ts';
import { entry } from './spoolContract.ts';

async function openSpool(recent: { maxRecords: number; maxTextBytes: number }): Promise<DiskSpool> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-recent-'));
  const spool = new DiskSpool({
    dir,
    sinks: ['a', 'b'],
    maxBytes: 1 << 24,
    overflow: 'dropOldest',
    ack: 'write',
    fsyncIntervalMs: 200,
    segmentBytes: 2048, // many segment boundaries
    checkpointIntervalMs: 1000,
    logger: pino({ level: 'silent' }),
    recent,
  });
  await spool.open();
  return spool;
}

const plain = (b: Batch) => ({ chunks: b.chunks, positions: b.positions, points: b.points, bytes: b.bytes, end: b.end, first: b.firstReceivedAt, last: b.lastReceivedAt });

describe('DiskSpool: recent records are read from memory, the same batches as from the file', () => {
  it('a cursor inside the window, one behind it, and one crossing segment boundaries read identical batches', async () => {
    // Sink a gets every entry, sink b every third: the window must respect each cursor's bit.
    const entries = Array.from({ length: 600 }, (_, i) => entry(1 + (i % 3), i % 3 === 0 ? 0b11 : 0b01, 1_700_000_000_000 + i));
    const inMemory = await openSpool({ maxRecords: 100_000, maxTextBytes: 1 << 24 });
    const fromFile = await openSpool({ maxRecords: 1, maxTextBytes: 1 }); // effectively no window
    const partly = await openSpool({ maxRecords: 50, maxTextBytes: 1 << 24 }); // the first batches from the file
    for (const e of entries) for (const s of [inMemory, fromFile, partly]) s.append(e);
    for (const s of [inMemory, fromFile, partly]) assert.equal(s.flush(), true);
    assert.ok(inMemory.stats().segments! > 3, 'the records cross segment boundaries');
    for (const sink of [0, 1]) {
      const read = (s: DiskSpool) => {
        const out = [];
        const c = s.cursor(sink);
        for (let b = c.read({ maxPoints: 37, maxBytes: 1 << 20 }); b !== undefined; b = c.read({ maxPoints: 37, maxBytes: 1 << 20 })) {
          out.push(plain(b));
          c.commit(b);
        }
        return out;
      };
      const expected = read(fromFile);
      assert.ok(expected.length > 5);
      assert.deepEqual(read(inMemory), expected, `sink ${sink}: window`);
      assert.deepEqual(read(partly), expected, `sink ${sink}: file, then window`);
    }
    for (const s of [inMemory, fromFile, partly]) await s.close();
  });
});
