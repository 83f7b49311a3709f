import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { DiskSpool } from '../../../src/spool/disk/DiskSpool.ts';
import { RecentRecords } from '../../../src/spool/disk/RecentRecords.ts';
import { entryLines, type Batch } from '../../../src/spool/Batch.ts';
import { entry } from './spoolContract.ts';

/** Every spool directory these tests made, removed when the file is done. */
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function openSpool(recent: { maxRecords: number; maxBytes: number }): Promise<DiskSpool> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-recent-'));
  dirs.push(dir);
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

const plain = (b: Batch) => ({
  chunks: entryLines(b),
  text: b.text.toString('latin1'),
  ends: b.ends,
  positions: b.positions,
  points: b.points,
  bytes: b.bytes,
  end: b.end,
  first: b.firstReceivedAt,
  last: b.lastReceivedAt,
});

describe('DiskSpool: recent records are read from memory, the same batches as from the file', () => {
  it('a cursor inside the window, one behind it, and one crossing segment boundaries read identical batches', async () => {
    // Sink a gets every entry, sink b every third: the window must respect each cursor's bit.
    const entries = Array.from({ length: 600 }, (_, i) => entry(1 + (i % 3), i % 3 === 0 ? 0b11 : 0b01, 1_700_000_000_000 + i));
    const inMemory = await openSpool({ maxRecords: 100_000, maxBytes: 1 << 24 });
    const fromFile = await openSpool({ maxRecords: 1, maxBytes: 1 }); // effectively no window
    const partly = await openSpool({ maxRecords: 50, maxBytes: 1 << 24 }); // the first batches from the file
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

  it('a ring smaller than the traffic: bursts wrap around, overwritten records are evicted, reads still match the file', async () => {
    const entries = Array.from({ length: 900 }, (_, i) => entry(1 + (i % 4), i % 5 === 0 ? 0b10 : 0b11, 1_700_000_000_000 + i));
    const fromFile = await openSpool({ maxRecords: 1, maxBytes: 1 });
    // About 20 records fit: each burst of 1–9 records lands behind the last, or at the start once the lap is full.
    const ring = await openSpool({ maxRecords: 100_000, maxBytes: 2500 });
    // Fewer record slots than the ring has room for: the count limit evicts too.
    const slots = await openSpool({ maxRecords: 6, maxBytes: 1 << 20 });
    const spools = [fromFile, ring, slots];
    const got = new Map<DiskSpool, ReturnType<typeof plain>[][]>(spools.map((s) => [s, [[], []]]));
    let burst = 0;
    for (let i = 0; i < entries.length; ) {
      const n = 1 + (burst++ % 9);
      for (const e of entries.slice(i, i + n)) for (const s of spools) s.append(e);
      i += n;
      for (const s of spools) assert.equal(s.flush(), true);
      // Readers read every few bursts, small batches: some inside the window, some fallen out of it.
      if (burst % 3 !== 0) continue;
      for (const s of spools) {
        for (const sink of [0, 1]) {
          const c = s.cursor(sink);
          const b = c.read({ maxPoints: 13, maxBytes: 1 << 20 });
          if (b === undefined) continue;
          got.get(s)![sink]!.push(plain(b));
          c.commit(b);
        }
      }
    }
    for (const s of spools) {
      for (const sink of [0, 1]) {
        const c = s.cursor(sink);
        for (let b = c.read({ maxPoints: 13, maxBytes: 1 << 20 }); b !== undefined; b = c.read({ maxPoints: 13, maxBytes: 1 << 20 })) {
          got.get(s)![sink]!.push(plain(b));
          c.commit(b);
        }
      }
    }
    const expected = got.get(fromFile)!;
    assert.equal(
      expected[0]!.reduce((n, b) => n + b.chunks.length, 0),
      entries.filter((e) => (e.sinks & 1) !== 0).length,
    );
    assert.deepEqual(got.get(ring), expected, 'ring');
    assert.deepEqual(got.get(slots), expected, 'record slots');
    for (const s of spools) await s.close();
  });
});

describe('DiskSpool: recent records, any ring size (property)', () => {
  it('multi-byte entries in bursts of any size (larger than the ring too), read by cursors at any pace, give the same batches as the file', async () => {
    const dirs: string[] = [];
    const open = async (recent: { maxRecords: number; maxBytes: number }, segmentBytes: number) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-recent-'));
      dirs.push(dir);
      const spool = new DiskSpool({
        dir,
        sinks: ['a', 'b'],
        maxBytes: 1 << 24,
        overflow: 'dropOldest',
        ack: 'write',
        fsyncIntervalMs: 200,
        segmentBytes,
        checkpointIntervalMs: 1000,
        logger: pino({ level: 'silent' }),
        recent,
      });
      await spool.open();
      return spool;
    };
    const text = fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'é', '😀', '€', ' ', '=') });
    // Each step: a burst of entries (text, sinks), then up to `reads` reads of at most `maxPoints` per sink.
    const step = fc.record({
      entries: fc.array(fc.tuple(text, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 8 }),
      reads: fc.nat({ max: 5 }),
      maxPoints: fc.integer({ min: 1, max: 20 }),
    });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 24, max: 600 }),
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 300, max: 3000 }),
          fc.array(step, { minLength: 1, maxLength: 25 }),
          async (ringBytes, maxRecords, segmentBytes, steps) => {
            const spools = [
              await open({ maxRecords: 1, maxBytes: 1 }, segmentBytes),
              await open({ maxRecords, maxBytes: ringBytes }, segmentBytes),
            ];
            const got = spools.map(() => [[], []] as ReturnType<typeof plain>[][]);
            for (const { entries, reads, maxPoints } of steps) {
              for (const [lines, sinks] of entries)
                for (const s of spools) s.append({ lines: `m ${lines}`, points: 1, sinks, receivedAt: 1 });
              spools.forEach((s, i) => {
                assert.equal(s.flush(), true);
                for (const sink of [0, 1]) {
                  const c = s.cursor(sink);
                  for (let r = 0; r < reads; r++) {
                    const b = c.read({ maxPoints, maxBytes: 1 << 20 });
                    if (b === undefined) break;
                    got[i]![sink]!.push(plain(b));
                    c.commit(b);
                  }
                }
              });
            }
            for (const s of spools) await s.close();
            assert.deepEqual(got[1], got[0]);
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RecentRecords', () => {
  it('holds bursts back to back, skips the end of the lap rather than splitting one, and evicts what a burst overwrites', () => {
    const r = new RecentRecords({ maxRecords: 100, maxBytes: 100 });
    const burst = (text: string): number => {
      const at = r.hold(Buffer.from(text));
      r.push(1, at, at + text.length, 1, 1, 0, at, at + text.length);
      return at;
    };
    assert.equal(burst('a'.repeat(40)), 0);
    assert.equal(burst('b'.repeat(40)), 40);
    // 30 more do not fit behind 80: the burst goes to the start of the next lap and overwrites the first.
    assert.equal(burst('c'.repeat(30)), 100);
    assert.equal(r.count, 2);
    assert.equal(r.ring.toString('latin1', r.textStartOf(0), r.textEndOf(0)), 'b'.repeat(40));
    assert.equal(r.ring.toString('latin1', r.textStartOf(1), r.textEndOf(1)), 'c'.repeat(30));
    // 50 more: they overwrite [30, 80) of the ring, where the b's were.
    burst('d'.repeat(50));
    assert.equal(r.count, 2);
    assert.equal(r.ring.toString('latin1', r.textStartOf(0), r.textEndOf(0)), 'c'.repeat(30));
    assert.equal(r.ring.toString('latin1', r.textStartOf(1), r.textEndOf(1)), 'd'.repeat(50));
    // A burst larger than the ring is not held, and nothing before it is either (records stay contiguous).
    assert.equal(r.hold(Buffer.alloc(101)), -1);
    assert.equal(r.count, 0);
  });

  it('every record still held reads back the bytes written, and the newest burst is held, whatever the ring size, record slots and burst sizes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 24, max: 200 }),
        fc.integer({ min: 1, max: 12 }),
        // Text sizes of each burst's records (each behind a 24-byte header, as the spool writes them).
        fc.array(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 40 }),
        (size, maxRecords, bursts) => {
          const r = new RecentRecords({ maxRecords, maxBytes: size });
          const written: Buffer[] = [];
          let k = 0;
          for (const burst of bursts) {
            const records = burst.map((len) => Buffer.from(Array.from({ length: 24 + len }, () => (k++ * 7) & 0xff)));
            const held = r.hold(Buffer.concat(records));
            let at = held;
            for (const record of records) {
              // `start` numbers the records, to check which are held.
              if (held >= 0) r.push(1, written.length, written.length + 1, 1, 1, 0, at + 24, at + record.length);
              written.push(record);
              at += record.length;
            }
            for (let n = 0; n < r.count; n++) {
              assert.equal(r.startOf(n), written.length - r.count + n, 'the newest records, contiguous');
              assert.deepEqual(r.ring.subarray(r.textStartOf(n), r.textEndOf(n)), written[r.startOf(n)]!.subarray(24));
            }
            if (held >= 0) assert.ok(r.count >= Math.min(maxRecords, records.length), 'the burst just held');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
