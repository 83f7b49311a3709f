import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { entryLines } from '../../../src/spool/Batch.ts';
import { realFs, type SpoolFs } from '../../../src/spool/disk/SpoolFs.ts';
import { entry } from './spoolContract.ts';
import { BIG, openSpool, readAll, recordOffsets, segmentFiles, tempDir } from './spoolTestKit.ts';

/** The real filesystem, counting record writes (segment headers are written with position 0). */
function countingFs(fail: () => boolean): { fs: SpoolFs; writes: () => number } {
  let writes = 0;
  const fs = {
    ...realFs,
    writeSync: (fd: number, buf: Buffer, off: number, len: number, pos: number) => {
      if (pos > 0) {
        writes++;
        if (fail()) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      }
      return realFs.writeSync(fd, buf, off, len, pos);
    },
  } as SpoolFs;
  return { fs, writes: () => writes };
}

describe('disk spool: records appended and not yet written', () => {
  it('a caught-up reader reads them from the ledger without making the writer write, at the positions the file then gives them', async () => {
    const dir = tempDir();
    const counted = countingFs(() => false);
    const { spool } = await openSpool(dir, { fs: counted.fs });
    const es = [entry(1, 0b11), entry(2, 0b01), entry(1, 0b11)];
    for (const e of es) spool.append(e);
    const early = spool.cursor(0).read(BIG)!;
    assert.deepEqual(
      entryLines(early),
      es.map((e) => e.lines),
    );
    assert.equal(counted.writes(), 0, 'the read did not write the burst (the writer writes it at the end of the burst)');
    assert.equal(spool.cursor(0).backlog().points, 4, 'in flight');
    assert.equal(spool.flush(), true);
    assert.equal(counted.writes(), 1, 'one write(2) for the burst');
    // Sink 1 reads the same records after the write: the positions are the ones sink 0 was given before it.
    const later = spool.cursor(1).read(BIG)!;
    assert.deepEqual(later.positions, [early.positions[0], early.positions[2]]);
    spool.cursor(0).commit(early);
    spool.cursor(1).commit(later);
    await spool.close();
    // And the file holds them there.
    const offsets = recordOffsets(segmentFiles(dir)[0]!);
    assert.deepEqual(
      early.positions.map((p) => p % 2 ** 32),
      offsets,
    );
  });

  it('a reader that read part of a burst goes on from there, in memory and then in the file', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir);
    const es = Array.from({ length: 6 }, () => entry(1, 0b01));
    for (const e of es.slice(0, 3)) spool.append(e);
    const c = spool.cursor(0);
    const a = c.read({ maxPoints: 2, maxBytes: 1 << 20 })!;
    assert.equal(c.backlog().oldestAt, es[0]!.receivedAt);
    c.commit(a);
    assert.equal(c.backlog().points, 1);
    assert.equal(c.backlog().oldestAt, es[2]!.receivedAt, 'the next one is known from the pending records');
    spool.flush();
    for (const e of es.slice(3)) spool.append(e);
    const b = c.read(BIG)!;
    assert.deepEqual(
      entryLines(b),
      es.slice(2).map((e) => e.lines),
      'the rest: one written, three pending',
    );
    c.commit(b);
    assert.equal(c.backlog().points, 0);
    await spool.close();
    const reopened = await openSpool(dir);
    assert.deepEqual(readAll(reopened.spool, 0), [], 'everything committed: nothing is read again');
    await reopened.spool.close();
  });

  it('a burst a reader has seen and that then cannot be written: counted, the segment sealed, no position handed out twice', async () => {
    const dir = tempDir();
    let failing = false;
    const counted = countingFs(() => failing);
    const { spool } = await openSpool(dir, { fs: counted.fs });
    spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), true);
    const first = spool.cursor(0).read(BIG)!;
    spool.cursor(0).commit(first);
    failing = true;
    spool.append(entry(1, 0b11));
    spool.append(entry(1, 0b11));
    const seen = spool.cursor(0).read(BIG)!;
    assert.equal(seen.points, 2, 'sink 0 copied the pending burst');
    assert.equal(spool.flush(), false, 'the write failed: the burst is discarded, its messages not acknowledged');
    assert.equal(spool.stats().unwrittenRecords, 2);
    assert.equal(spool.cursor(0).backlog().points, 2, 'its batch still counts until committed');
    assert.equal(spool.cursor(1).backlog().points, 1, 'sink 1 had not read the burst: only the written record is left');
    spool.cursor(0).commit(seen);
    failing = false;
    await spool.whenWritable();
    const after = entry(1, 0b11);
    assert.equal(spool.append(after), true);
    assert.equal(spool.flush(), true);
    const next = spool.cursor(0).read(BIG)!;
    assert.deepEqual(entryLines(next), [after.lines]);
    assert.ok(next.positions[0]! > Math.max(...seen.positions), 'a later position than any seen (the Redis sink skips applied ones)');
    assert.deepEqual(
      readAll(spool, 1),
      [first, next].flatMap((b) => entryLines(b)),
      'sink 1: the written records, nothing of the discarded burst',
    );
    await spool.close();
  });

  it('the writer and the readers never call each other: each talks to the ledger only', () => {
    const source = (name: string): string => readFileSync(new URL(`../../../src/spool/disk/${name}`, import.meta.url), 'utf8');
    const imports = (text: string): string[] => [...text.matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]!);
    assert.ok(!imports(source('SpoolWriter.ts')).some((f) => /DiskCursor|RecordReader/.test(f)));
    assert.ok(!imports(source('DiskCursor.ts')).includes('SpoolWriter.ts'));
    assert.ok(!imports(source('SpoolLedger.ts')).some((f) => /SpoolWriter|DiskCursor/.test(f)));
    assert.doesNotMatch(source('SpoolLedger.ts'), /installWriter|=> boolean = /, 'no callback of the writer kept in the ledger');
  });
});
