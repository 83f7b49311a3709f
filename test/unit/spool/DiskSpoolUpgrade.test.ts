import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { encodeRecordV1 } from '../../../src/spool/disk/recordCodec.ts';
import { encodeHeaderV1, segmentName } from '../../../src/spool/disk/segmentFile.ts';
import { entry } from './spoolContract.ts';
import { openSpool, readAll, segmentFiles, tempDir } from './spoolTestKit.ts';

/**
 * A spool directory left by the previous version (format 1: no sync marker, no header CRC) is read in its own
 * format: the backlog and each sink's checkpoint survive the upgrade; new records go to format-2 segments.
 */
describe('DiskSpool upgrade from format 1', () => {
  function writeV1(dir: string, segments: number, perSegment: number): { lines: string[]; boundaries: number[][] } {
    fs.mkdirSync(path.join(dir, 'segments'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'cursors'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'spool.json'), JSON.stringify({ origin: 'old-origin', version: 1 }));
    const lines: string[] = [];
    const boundaries: number[][] = [];
    for (let s = 1; s <= segments; s++) {
      const parts = [encodeHeaderV1({ sinks: ['influx', 'redis'], createdAt: Date.now() })];
      const offs: number[] = [];
      let at = parts[0]!.length;
      for (let i = 0; i < perSegment; i++) {
        const e = entry(1, 0b11);
        lines.push(e.lines);
        const rec = encodeRecordV1(e);
        offs.push(at);
        at += rec.length;
        parts.push(rec);
      }
      offs.push(at);
      boundaries.push(offs);
      fs.writeFileSync(path.join(dir, 'segments', segmentName(s)), Buffer.concat(parts));
    }
    return { lines, boundaries };
  }

  it('keeps the backlog and the checkpoints, appends in format 2, deletes the old files once passed', async () => {
    const dir = tempDir();
    const { lines, boundaries } = writeV1(dir, 3, 50);
    // influx had committed 60 records (10 into segment 2), redis nothing.
    fs.writeFileSync(path.join(dir, 'cursors', 'influx.json'), JSON.stringify({ segment: 2, offset: boundaries[1]![10] }));
    const { spool } = await openSpool(dir);
    assert.equal(spool.origin, 'old-origin', 'the identity survives (sinks keep recognising re-sent batches)');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'spool.json'), 'utf8')).version, 2);
    assert.equal(spool.cursor(0).backlog().points, 90);
    assert.equal(spool.cursor(1).backlog().points, 150);
    const fresh = entry(1, 0b11);
    spool.append(fresh);
    assert.deepEqual(readAll(spool, 0), [...lines.slice(60), fresh.lines]);
    assert.deepEqual(readAll(spool, 1), [...lines, fresh.lines]);
    const left = segmentFiles(dir);
    assert.equal(left.length, 1, 'the old segments were deleted once both sinks passed them');
    assert.equal(fs.readFileSync(left[0]!).subarray(0, 8).toString('latin1'), 'EBSPOOL2');
    await spool.close();
  });

  it('a corrupt record in a format-1 segment skips the rest of that segment only, counted', async () => {
    const dir = tempDir();
    const { lines, boundaries } = writeV1(dir, 2, 20);
    const file = path.join(dir, 'segments', segmentName(1));
    const bytes = fs.readFileSync(file);
    bytes[boundaries[0]![5]! + 30] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const { spool } = await openSpool(dir);
    assert.deepEqual(readAll(spool, 0), [...lines.slice(0, 5), ...lines.slice(20)]);
    assert.equal(spool.stats().recordsLost!.influx!.corrupt, 1);
    await spool.close();
  });
});
