import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entryLines } from '../../../src/spool/Batch.ts';
import { FILE_SCAN_BUDGET } from '../../../src/spool/disk/DiskCursor.ts';
import { BIG, openSpool, tempDir } from './spoolTestKit.ts';

describe('disk cursor: catch-up reads from the files are bounded', () => {
  it('one read scans at most about FILE_SCAN_BUDGET bytes of file (event-loop stall), and the reads together deliver everything in order', async () => {
    const dir = tempDir();
    const n = 30_000;
    const first = await openSpool(dir, { segmentBytes: 16 << 20, maxBytes: 1 << 28 });
    for (let i = 0; i < n; i++) {
      // One record in three for sink 1 only: a read of sink 0 also scans records it skips.
      first.spool.append({
        lines: `m,device=d${i % 100} v=${i} ${1_700_000_000_000_000 + i}`,
        points: 1,
        sinks: i % 3 === 2 ? 0b10 : 0b11,
        receivedAt: 1_700_000_000_000 + i,
      });
      if (i % 500 === 499) first.spool.flush();
    }
    await first.spool.close();

    // Reopened: nothing is in the recent-records window, every read goes to the files.
    const { spool } = await openSpool(dir, { segmentBytes: 16 << 20, maxBytes: 1 << 28 });
    try {
      for (const sink of [0, 1]) {
        const c = spool.cursor(sink);
        const values: number[] = [];
        let reads = 0;
        for (let b = c.read(BIG); b !== undefined; b = c.read(BIG)) {
          reads++;
          // Records of this sink are at most the bytes scanned; one record may pass the budget.
          assert.ok(b.bytes <= FILE_SCAN_BUDGET + 256, `read ${reads}: ${b.bytes} bytes in one read`);
          values.push(...entryLines(b).map((l) => Number(/ v=(\d+)/.exec(l)![1])));
          c.commit(b);
        }
        const expected = Array.from({ length: n }, (_, i) => i).filter((i) => sink === 1 || i % 3 !== 2);
        assert.deepEqual(values, expected, `sink ${sink}: every record once, in order`);
        assert.ok(reads > 1, 'the backlog took several reads');
        assert.equal(c.backlog().points, 0);
      }
    } finally {
      await spool.close();
    }
  });
});
