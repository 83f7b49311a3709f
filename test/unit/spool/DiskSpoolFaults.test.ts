import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { realFs, type SpoolFs } from '../../../src/spool/disk/SpoolFs.ts';
import { entry } from './spoolContract.ts';
import { BIG, openSpool, readAll, segmentFiles, tempDir } from './spoolTestKit.ts';

/** The real filesystem with some calls replaced: disk errors as ordinary unit tests, no root needed. */
function faultyFs(overrides: Partial<Record<keyof SpoolFs, unknown>>): SpoolFs {
  return { ...realFs, ...overrides } as SpoolFs;
}

function errno(code: string, file?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected${file ? `, '${file}'` : ''}`), { code, ...(file ? { path: file } : {}) });
}

/** A `writeSync` that throws `code` while `failing()` says so, and writes through otherwise. */
function failingWrite(code: string, failing: () => boolean) {
  return (fd: number, buf: Buffer, off: number, len: number, pos: number): number => {
    if (failing()) throw errno(code);
    return realFs.writeSync(fd, buf, off, len, pos);
  };
}

describe('DiskSpool with an injected filesystem', () => {
  it('ENOSPC with every sink caught up: the delivered newest segment is freed and appends go on (no restart, no operator)', async () => {
    const dir = tempDir();
    let full = false;
    const fsx = faultyFs({
      writeSync: failingWrite('ENOSPC', () => full),
      ftruncateSync: (fd: number, len: number) => {
        realFs.ftruncateSync(fd, len);
        if (len < 200) full = false; // cut to its header: the space is back
      },
    });
    const { spool } = await openSpool(dir, { fs: fsx });
    for (let i = 0; i < 100; i++) spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), true);
    full = true;
    spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), false, 'the burst hit the full disk');
    assert.equal(spool.stats().fullReason, 'ENOSPC');
    readAll(spool, 0);
    readAll(spool, 1);
    await spool.whenWritable();
    const more = entry(1, 0b11);
    assert.equal(spool.append(more), true);
    assert.equal(spool.flush(), true, 'written after the delivered segment was freed');
    assert.deepEqual(readAll(spool, 0), [more.lines]);
    assert.equal(segmentFiles(dir).length, 1, 'the freed segment was deleted');
    await spool.close();
  });

  it('ENOSPC while a sink still needs the data: refused (the source stops acknowledging), nothing freed', async () => {
    const dir = tempDir();
    let full = false;
    const fsx = faultyFs({
      writeSync: failingWrite('ENOSPC', () => full),
    });
    const { spool } = await openSpool(dir, { fs: fsx });
    for (let i = 0; i < 10; i++) spool.append(entry(1, 0b11));
    spool.flush();
    readAll(spool, 0); // redis has read nothing
    full = true;
    spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), false);
    assert.equal(spool.stats().full, true);
    assert.equal(readAll(spool, 1).length, 10, 'every written record is still there for redis');
    await spool.close();
  });

  it('EIO on write: the burst is discarded and counted, flush() says so, the records never appear', async () => {
    const dir = tempDir();
    let fail = false;
    const fsx = faultyFs({
      writeSync: failingWrite('EIO', () => fail),
    });
    const { spool } = await openSpool(dir, { fs: fsx });
    fail = true;
    spool.append(entry(1, 0b11));
    spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), false);
    assert.equal(spool.stats().unwrittenRecords, 2);
    assert.equal(spool.stats().fullReason, 'EIO');
    assert.equal(spool.cursor(0).read(BIG), undefined);
    await spool.close();
  });

  it('a short write is cut back to the record boundary: after a restart every record is whole', async () => {
    const dir = tempDir();
    let short = false;
    const fsx = faultyFs({
      writeSync: (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
        realFs.writeSync(fd, buf, off, short ? Math.floor(len / 2) : len, pos),
    });
    const kept = Array.from({ length: 20 }, () => entry(1, 0b11));
    let { spool } = await openSpool(dir, { fs: fsx });
    for (const e of kept) spool.append(e);
    spool.flush();
    short = true;
    for (let i = 0; i < 5; i++) spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), false, 'a short write counts as not written');
    await spool.close();
    ({ spool } = await openSpool(dir));
    assert.equal(spool.stats().tornBytesRecovered, 0, 'nothing torn was left behind');
    assert.deepEqual(
      readAll(spool, 0),
      kept.map((e) => e.lines),
    );
    await spool.close();
  });

  it('a torn write whose cleanup also fails: the next start cuts the torn tail, the earlier records land', async () => {
    const dir = tempDir();
    let torn = false;
    const fsx = faultyFs({
      writeSync: (fd: number, buf: Buffer, off: number, len: number, pos: number) => {
        if (!torn) return realFs.writeSync(fd, buf, off, len, pos);
        realFs.writeSync(fd, buf, off, Math.floor(len / 2), pos);
        throw errno('EIO');
      },
      ftruncateSync: (fd: number, len: number) => {
        if (torn) throw errno('EIO');
        realFs.ftruncateSync(fd, len);
      },
    });
    const kept = Array.from({ length: 20 }, () => entry(1, 0b11));
    let { spool } = await openSpool(dir, { fs: fsx });
    for (const e of kept) spool.append(e);
    spool.flush();
    torn = true;
    for (let i = 0; i < 5; i++) spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), false);
    torn = false;
    await spool.close();
    ({ spool } = await openSpool(dir));
    assert.ok(spool.stats().tornBytesRecovered! > 0);
    // Whole records of the torn burst may remain (their messages were not acknowledged: at-least-once duplicates).
    const got = readAll(spool, 0);
    assert.deepEqual(
      got.slice(0, kept.length),
      kept.map((e) => e.lines),
    );
    assert.ok(got.length < kept.length + 5, `${got.length} records: the torn one is gone`);
    await spool.close();
  });

  it('EACCES on a segment: open fails with a ConfigError (exit 78) naming the file and the fix', async () => {
    const dir = tempDir();
    let { spool } = await openSpool(dir);
    spool.append(entry(1, 0b11));
    await spool.close();
    const [seg] = segmentFiles(dir);
    const fsx = faultyFs({
      openSync: (file: string, flags: string, mode?: number) => {
        if (file === seg) throw errno('EACCES', file);
        return realFs.openSync(file, flags, mode);
      },
    });
    await assert.rejects(openSpool(dir, { fs: fsx }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /EACCES/);
      assert.ok(error.message.includes(seg!), error.message);
      assert.match(error.message, /chown/);
      return true;
    });
    // The lock was released: the directory opens once the file is readable again.
    ({ spool } = await openSpool(dir));
    await spool.close();
  });

  it('EISDIR: a directory where spool.json or a segment belongs is a ConfigError naming the path', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'spool.json'));
    await assert.rejects(
      openSpool(dir),
      (error: unknown) =>
        error instanceof ConfigError && /EISDIR/.test(error.message) && error.message.includes(path.join(dir, 'spool.json')),
    );
    const dir2 = tempDir();
    fs.mkdirSync(path.join(dir2, 'segments', '00000000000000000001.seg'), { recursive: true });
    await assert.rejects(
      openSpool(dir2),
      (error: unknown) =>
        error instanceof ConfigError && /EISDIR/.test(error.message) && error.message.includes('00000000000000000001.seg'),
    );
  });
});

describe('DiskSpool lock: one gateway per spool directory', () => {
  it('a second spool on the same directory is refused with the holder PID; after close it opens', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir);
    await assert.rejects(openSpool(dir, { lock: { pid: process.pid + 1_000_000 } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(`PID ${process.pid}`), error.message);
      return true;
    });
    await spool.close();
    const again = await openSpool(dir, { lock: { pid: process.pid + 1_000_000 } });
    await again.spool.close();
  });

  it('a stale lock (its process was SIGKILLed) is taken over', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid: 4_000_000, startTime: '1' }));
    const { spool } = await openSpool(dir);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).pid, process.pid);
    await spool.close();
    assert.equal(fs.existsSync(path.join(dir, 'lock')), false, 'released at close');
  });

  it('a live PID that is another process (reused after a reboot: other start time) is not the holder', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid: 1, startTime: 'not-the-start-time-of-pid-1' }));
    const { spool } = await openSpool(dir);
    await spool.close();
  });
});

describe('DiskSpool dropOldest counts every drop, the batch in flight included', () => {
  it('segments dropped under a batch in flight: after a restart, delivered + dropped = appended', async () => {
    const dir = tempDir();
    const opts = { sinks: ['influx'], maxBytes: 20_000, segmentBytes: 2_000 };
    let { spool } = await openSpool(dir, opts);
    const N1 = 100;
    for (let i = 0; i < N1; i++) spool.append(entry(1, 0b1));
    const inflight = spool.cursor(0).read(BIG)!; // the sink is down: this batch is never committed
    assert.equal(inflight.points, N1);
    const N2 = 500;
    for (let i = 0; i < N2; i++) spool.append(entry(1, 0b1));
    const dropped = spool.cursor(0).dropped();
    assert.ok(dropped >= N1, `dropped ${dropped}: the in-flight batch's segments were dropped and counted`);
    await spool.close();
    ({ spool } = await openSpool(dir, opts));
    const delivered = readAll(spool, 0).length;
    assert.equal(delivered + dropped, N1 + N2, `${delivered} delivered + ${dropped} dropped`);
    await spool.close();
  });
});

describe('DiskSpool on a really full disk that recovers (a 2 MiB tmpfs)', () => {
  const canMount = process.getuid?.() === 0;
  it('defaults (16 MiB segments on a 2 MiB disk): ENOSPC, the sinks catch up, appends resume by themselves', {
    skip: canMount ? false : 'needs root to mount a tmpfs',
  }, async (t) => {
    const dir = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
    try {
      const { spool } = await openSpool(dir, { maxBytes: 1 << 30, segmentBytes: 16 * 1024 * 1024 });
      // The refusal after ENOSPC lifts on a timer (1 s): mocked, so the 8 rounds do not wait 8 s of wall clock.
      t.mock.timers.enable({ apis: ['setTimeout'] });
      let appended = 0;
      let delivered = 0;
      let refusedRounds = 0;
      for (let round = 0; round < 8; round++) {
        let accepted = 0;
        while (spool.append(entry(3, 0b11)) && spool.flush()) accepted++;
        appended += accepted;
        assert.equal(spool.stats().fullReason, 'ENOSPC', `round ${round}: the disk really is full`);
        refusedRounds++;
        delivered += readAll(spool, 0).length;
        readAll(spool, 1);
        const writable = spool.whenWritable();
        t.mock.timers.tick(1000);
        await writable;
      }
      assert.equal(refusedRounds, 8);
      assert.ok(appended > 3 * 20_000, `${appended} records through a 2 MiB disk`);
      assert.equal(delivered, appended, 'every accepted record delivered');
      await spool.close();
    } finally {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    }
  });
});

describe('DiskSpool started on a full disk', () => {
  it('needs a new segment at start (sinks renamed) and the disk is full: it starts, refuses, and recovers once the sinks have the data', async () => {
    const dir = tempDir();
    let { spool } = await openSpool(dir, { sinks: ['influx'] });
    const old = Array.from({ length: 10 }, () => entry(1, 0b1));
    for (const e of old) spool.append(e);
    await spool.close();
    let full = true;
    const fsx = faultyFs({
      openSync: (file: string, flags: string, mode?: number) => {
        if (full && flags === 'w' && file.endsWith('.seg')) throw errno('ENOSPC', file);
        return realFs.openSync(file, flags, mode);
      },
      ftruncateSync: (fd: number, len: number) => {
        realFs.ftruncateSync(fd, len);
        full = false;
      },
    });
    ({ spool } = await openSpool(dir, { sinks: ['influx', 'redis'], fs: fsx }));
    assert.equal(spool.append(entry(1, 0b11)), false, 'no segment to write to yet');
    assert.deepEqual(
      readAll(spool, 0),
      old.map((e) => e.lines),
    );
    await spool.whenWritable();
    const fresh = entry(1, 0b11);
    assert.equal(spool.append(fresh), true);
    assert.equal(spool.flush(), true);
    assert.deepEqual(readAll(spool, 0), [fresh.lines]);
    assert.deepEqual(readAll(spool, 1), [fresh.lines]);
    await spool.close();
  });
});
