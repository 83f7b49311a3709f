import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { entry } from './spoolContract.ts';
import { flipByte, lengthAt, openSpool, readAll, recordOffsets, segmentFiles, tempDir } from './spoolTestKit.ts';

/**
 * Issue 12 item 7, case by case, on real files: flip real bytes, restart, count. Corruption costs the bad records
 * only, counted per sink; the damaged segment is kept in corrupt/; nothing is skipped silently.
 */
describe('DiskSpool: corruption on disk costs only the bad records, counted', () => {
  async function writeN(dir: string, n: number, segmentBytes = 1 << 20) {
    const entries = Array.from({ length: n }, () => entry(1, 0b11));
    const { spool } = await openSpool(dir, { segmentBytes });
    for (const e of entries) spool.append(e);
    await spool.close();
    return entries.map((e) => e.lines);
  }

  it('a flipped byte in the middle of the newest segment: the intact records after it are kept and delivered', async () => {
    const dir = tempDir();
    const lines = await writeN(dir, 1000);
    const [seg] = segmentFiles(dir);
    const size = fs.statSync(seg!).size;
    const victim = recordOffsets(seg!)[500]!;
    flipByte(seg!, victim + 40); // inside the line protocol of record 500
    const { spool, log } = await openSpool(dir);
    assert.equal(fs.statSync(seg!).size, size, 'nothing truncated on disk');
    const influx = readAll(spool, 0);
    const redis = readAll(spool, 1);
    assert.deepEqual(influx, [...lines.slice(0, 500), ...lines.slice(501)]);
    assert.deepEqual(redis, influx);
    assert.deepEqual(spool.stats().recordsLost, {
      influx: { corrupt: 1, unreadable_segment: 0 },
      redis: { corrupt: 1, unreadable_segment: 0 },
    });
    assert.ok(log.lines().some((l) => l.msg === 'spool: corrupt record skipped, reading goes on at the next good one'));
    // Appends go to a fresh segment; the damaged one is moved aside once both sinks have passed it, not deleted.
    spool.append(entry(1, 0b11));
    readAll(spool, 0);
    readAll(spool, 1);
    assert.ok(fs.existsSync(path.join(dir, 'corrupt', path.basename(seg!))), 'kept in corrupt/');
    await spool.close();
  });

  it('a flipped bit in a length field: one record lost and counted, not taken for a torn tail', async () => {
    const dir = tempDir();
    const lines = await writeN(dir, 1000);
    const [seg] = segmentFiles(dir);
    const victim = recordOffsets(seg!)[500]!;
    flipByte(seg!, victim + lengthAt(seg!) + 2, 0x10); // bit 20 of the length: the record now "runs past the end"
    const { spool, log } = await openSpool(dir);
    assert.equal(spool.stats().tornBytesRecovered, 0);
    assert.ok(!log.lines().some((l) => l.msg === 'spool: cut a torn record off the newest segment'));
    assert.deepEqual(readAll(spool, 0), [...lines.slice(0, 500), ...lines.slice(501)]);
    assert.equal(readAll(spool, 1).length, 999);
    assert.equal(spool.stats().recordsLost!.influx!.corrupt, 1);
    assert.equal(spool.stats().recordsLost!.redis!.corrupt, 1);
    await spool.close();
  });

  it('a flipped byte in an older segment: the rest of that segment is delivered, the file kept aside', async () => {
    const dir = tempDir();
    const lines = await writeN(dir, 1000, 16 * 1024);
    const files = segmentFiles(dir);
    assert.ok(files.length >= 4, `${files.length} segments`);
    const offsets = recordOffsets(files[1]!);
    const k = Math.floor(offsets.length / 2);
    flipByte(files[1]!, offsets[k]! + 30);
    const before = recordOffsets(files[0]!).length;
    const { spool } = await openSpool(dir, { segmentBytes: 16 * 1024 });
    const got = readAll(spool, 0);
    const lostLine = lines[before + k]!;
    assert.deepEqual(
      got,
      lines.filter((l) => l !== lostLine),
    );
    readAll(spool, 1);
    assert.equal(spool.stats().recordsLost!.influx!.corrupt, 1);
    assert.ok(fs.existsSync(path.join(dir, 'corrupt', path.basename(files[1]!))), 'kept in corrupt/, not deleted');
    await spool.close();
  });

  it('a changed header byte that still parses as JSON is detected: segment set aside, its records counted', async () => {
    const dir = tempDir();
    const lines = await writeN(dir, 600, 16 * 1024);
    const files = segmentFiles(dir);
    const inFirst = recordOffsets(files[0]!).length;
    const bytes = fs.readFileSync(files[0]!);
    const at = bytes.indexOf('influx');
    bytes[at + 3] = 'a'.charCodeAt(0); // "inflax": valid JSON, a different sink
    fs.writeFileSync(files[0]!, bytes);
    const { spool, log } = await openSpool(dir, { segmentBytes: 16 * 1024 });
    assert.ok(log.lines().some((l) => String(l.msg).startsWith('unreadable spool segment header')));
    assert.ok(fs.existsSync(path.join(dir, 'corrupt', path.basename(files[0]!))));
    assert.deepEqual(readAll(spool, 0), lines.slice(inFirst));
    assert.deepEqual(spool.stats().recordsLost!.influx, { corrupt: 0, unreadable_segment: inFirst });
    assert.ok(spool.stats().corruptSkipped! >= 1);
    await spool.close();
  });

  it('a checkpoint pointing inside a record re-sends from the record boundary before it, never skips', async () => {
    const dir = tempDir();
    const lines = await writeN(dir, 1000);
    const [seg] = segmentFiles(dir);
    const offsets = recordOffsets(seg!);
    const id = Number(path.basename(seg!, '.seg'));
    for (const sink of ['influx', 'redis']) {
      fs.writeFileSync(path.join(dir, 'cursors', `${sink}.json`), JSON.stringify({ segment: id, offset: offsets[300]! + 5 }));
    }
    const { spool, log } = await openSpool(dir);
    assert.deepEqual(readAll(spool, 0), lines.slice(300));
    assert.deepEqual(readAll(spool, 1), lines.slice(300));
    assert.equal(spool.stats().checkpointsRepaired, 2);
    assert.equal(spool.stats().recordsLost!.influx!.corrupt, 0);
    assert.ok(log.lines().some((l) => String(l.msg).startsWith('spool checkpoint does not point at a record')));
    await spool.close();
  });

  it('garbage at the end of the newest segment (zeros after a power cut) is cut as a torn tail', async () => {
    const dir = tempDir();
    const lines = await writeN(dir, 50);
    const [seg] = segmentFiles(dir);
    fs.appendFileSync(seg!, Buffer.alloc(4096));
    const { spool } = await openSpool(dir);
    assert.equal(spool.stats().tornBytesRecovered, 4096);
    assert.deepEqual(readAll(spool, 0), lines);
    await spool.close();
  });
});
