import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realFs, type SpoolFs } from '../../../src/spool/disk/SpoolFs.ts';
import { entry } from './spoolContract.ts';
import { openSpool, readAll, tempDir } from './spoolTestKit.ts';

type Callback = (error: NodeJS.ErrnoException | null) => void;

/**
 * The real filesystem, with the record writes logged (and failing while `failWrites`) and every fdatasync held
 * until the test completes it (really, or with an injected error).
 */
function recordingFs() {
  const log: string[] = [];
  const held: { fd: number; cb: Callback }[] = [];
  const state = { failWrites: false, logging: false };
  const fs = {
    ...realFs,
    writeSync: (fd: number, buf: Buffer, off: number, len: number, pos: number): number => {
      if (state.logging) log.push('write');
      if (state.failWrites) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      return realFs.writeSync(fd, buf, off, len, pos);
    },
    fdatasync: (fd: number, cb: Callback): void => {
      if (state.logging) log.push('fdatasync');
      held.push({ fd, cb });
    },
  } as SpoolFs;
  return {
    fs,
    log,
    state,
    held,
    /** Completes the oldest held fdatasync: really, or with `error`. */
    finish(error?: NodeJS.ErrnoException): void {
      const h = held.shift();
      assert.ok(h, 'an fdatasync is in flight');
      if (error !== undefined) h.cb(error);
      else realFs.fdatasync(h.fd, h.cb);
    },
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('DiskSpool ack=fsync: one write per group-commit cycle (injected fs)', () => {
  it("eight connections' records: one write(2), then one fdatasync, and the acknowledgements only after it returned", async () => {
    const disk = recordingFs();
    const { spool } = await openSpool(tempDir(), { ack: 'fsync', fsyncIntervalMs: 0, fs: disk.fs });
    disk.state.logging = true;
    const acked: number[] = [];
    for (let i = 0; i < 8; i++) {
      spool.append(entry(1, 0b11));
      spool.sync((error) => {
        assert.equal(error ?? null, null);
        acked.push(i);
      });
    }
    assert.deepEqual(disk.log, [], 'appending and asking to sync write nothing yet');
    await turn();
    assert.deepEqual(disk.log, ['write', 'fdatasync'], 'all eight records in one write, before the fdatasync');
    assert.deepEqual(acked, []);
    disk.finish();
    await settled();
    assert.deepEqual(acked, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(readAll(spool, 0).length, 8);
    await spool.close();
  });

  it('a write failure acknowledges none of the cycle: every waiter gets the error, no fdatasync for them', async () => {
    const disk = recordingFs();
    const { spool } = await openSpool(tempDir(), { ack: 'fsync', fsyncIntervalMs: 0, fs: disk.fs });
    disk.state.logging = true;
    disk.state.failWrites = true;
    const errors: (Error | null | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      spool.append(entry(1, 0b11));
      spool.sync((error) => errors.push(error));
    }
    await turn();
    assert.deepEqual(disk.log, ['write']);
    assert.equal(errors.length, 4);
    for (const e of errors) assert.match(String(e?.message), /spool write failed: EIO/);
    assert.equal(spool.stats().unwrittenRecords, 4);
    assert.deepEqual(readAll(spool, 0), [], 'the discarded records never appear');
    disk.state.failWrites = false;
    await spool.close();
  });

  it('a failed fdatasync acknowledges nothing of its cycle', async () => {
    const disk = recordingFs();
    const { spool } = await openSpool(tempDir(), { ack: 'fsync', fsyncIntervalMs: 0, fs: disk.fs });
    const errors: (Error | null | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      spool.append(entry(1, 0b11));
      spool.sync((error) => errors.push(error));
    }
    await turn();
    disk.finish(Object.assign(new Error('EIO: injected fdatasync'), { code: 'EIO' }));
    assert.equal(errors.length, 3);
    for (const e of errors) assert.equal(e?.message, 'EIO: injected fdatasync');
    await spool.close();
  });

  it('a record appended while an fdatasync is in flight is acknowledged only by the next one', async () => {
    const disk = recordingFs();
    const { spool } = await openSpool(tempDir(), { ack: 'fsync', fsyncIntervalMs: 0, fs: disk.fs });
    disk.state.logging = true;
    const acked: string[] = [];
    spool.append(entry(1, 0b11));
    spool.sync(() => acked.push('first'));
    await turn();
    spool.append(entry(1, 0b11));
    spool.sync(() => acked.push('second'));
    assert.equal(spool.flush(), true, 'the end of a burst writes it while the fdatasync runs');
    await turn();
    assert.deepEqual(disk.log, ['write', 'fdatasync', 'write'], 'no second fdatasync while one is in flight');
    disk.finish();
    await settled();
    assert.deepEqual(acked, ['first'], 'the fdatasync that started before the second record was written');
    assert.deepEqual(disk.log, ['write', 'fdatasync', 'write', 'fdatasync']);
    disk.finish();
    await settled();
    assert.deepEqual(acked, ['first', 'second']);
    await spool.close();
  });
});

describe('DiskSpool ack=fsync: a roll whose fdatasync of the sealed segment fails (injected fs)', () => {
  /** recordingFs, whose synchronous fdatasync (the roll's close of the sealed segment) fails while `failSyncClose`. */
  function failingCloseFs() {
    const disk = recordingFs();
    const failing = { on: false };
    const fs = {
      ...disk.fs,
      fdatasyncSync: (fd: number): void => {
        if (failing.on) throw Object.assign(new Error('EIO: injected fdatasyncSync'), { code: 'EIO' });
        realFs.fdatasyncSync(fd);
      },
    } as SpoolFs;
    return { ...disk, fs, failing };
  }

  it('the waiters of the fdatasync in flight on the sealed segment get the error, not an acknowledgement', async () => {
    const disk = failingCloseFs();
    const { spool } = await openSpool(tempDir(), { ack: 'fsync', fsyncIntervalMs: 0, fs: disk.fs, segmentBytes: 100 });
    const results: (Error | null | undefined)[] = [];
    spool.append(entry(1, 0b11));
    spool.sync((error) => results.push(error));
    await turn(); // written, its fdatasync in flight (held)
    disk.failing.on = true;
    spool.append(entry(1, 0b11)); // does not fit: the roll seals the first segment, whose fdatasync fails
    assert.equal(spool.flush(), true);
    disk.failing.on = false;
    disk.finish(); // the held fdatasync on the closed descriptor (EBADF, or a reused one): says nothing
    await settled();
    assert.equal(results.length, 1);
    assert.match(String(results[0]?.message), /EIO/, 'its record may not be on disk: no PUBACK');
    await spool.close();
  });

  it('the waiters written but not yet flushed get the error too', async () => {
    const disk = failingCloseFs();
    const { spool } = await openSpool(tempDir(), { ack: 'fsync', fsyncIntervalMs: 0, fs: disk.fs, segmentBytes: 100 });
    const results: string[] = [];
    spool.append(entry(1, 0b11));
    spool.sync((error) => results.push(`first:${error?.message ?? 'ok'}`));
    await turn(); // the first fdatasync in flight
    disk.finish(); // done: the first acknowledged
    await settled();
    // an fdatasync in flight (its own record), then a record written while it runs: an ordinary waiter
    spool.append(entry(1, 0b11)); // rolls (segment 1 is full): segment 2
    spool.sync((error) => results.push(`second:${error?.message ?? 'ok'}`));
    await turn();
    spool.append(entry(1, 0b11));
    disk.failing.on = true;
    spool.append(entry(1, 0b11)); // segment 2 is full: sealed, its fdatasync fails
    disk.failing.on = false;
    assert.equal(spool.flush(), true);
    while (disk.held.length > 0) {
      disk.finish();
      await settled();
    }
    assert.equal(results[0], 'first:ok');
    assert.match(results[1] ?? '', /^second:.*EIO/, 'its record was in the sealed segment whose fdatasync failed');
    await spool.close();
  });
});

describe('DiskSpool: a failed fdatasync is logged (injected fs)', () => {
  it('ack=write: the background fdatasync that fails says so (nobody waits on it to report the error)', async () => {
    const disk = recordingFs();
    const { spool, log } = await openSpool(tempDir(), { ack: 'write', fsyncIntervalMs: 10, fs: disk.fs });
    spool.append(entry(1, 0b11));
    assert.equal(spool.flush(), true);
    for (let i = 0; i < 100 && disk.held.length === 0; i++) await settled();
    disk.finish(Object.assign(new Error('EIO: injected fdatasync'), { code: 'EIO' }));
    const errors = log.lines().filter((l) => Number(l.level) >= 50);
    assert.ok(
      errors.some((l) => /EIO/.test(JSON.stringify(l))),
      `an error logged: ${JSON.stringify(log.lines())}`,
    );
    await spool.close();
  });
});
