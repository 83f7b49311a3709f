import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GroupSync } from '../../../src/spool/disk/GroupSync.ts';
import type { SpoolFs } from '../../../src/spool/disk/SpoolFs.ts';

type Callback = (error: NodeJS.ErrnoException | null) => void;

/** An fdatasync that returns only when the test says so: the cycle's steps one by one. */
function heldDisk() {
  const inFlight: Callback[] = [];
  const log: string[] = [];
  const fs = {
    fdatasync: (_fd: number, cb: Callback) => {
      log.push('fdatasync');
      inFlight.push(cb);
    },
  } as unknown as SpoolFs;
  return {
    fs,
    log,
    inFlight,
    /** Completes the oldest fdatasync in flight. */
    finish(error: NodeJS.ErrnoException | null = null): void {
      const cb = inFlight.shift();
      assert.ok(cb, 'an fdatasync is in flight');
      cb(error);
    },
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const eio = (): NodeJS.ErrnoException => Object.assign(new Error('EIO: injected'), { code: 'EIO' });

/** A GroupSync over `disk` whose writes (the spool's pending records) are logged and succeed unless told. */
function groupSync(disk: ReturnType<typeof heldDisk>, writeFails: () => boolean = () => false) {
  const gs: GroupSync = new GroupSync({
    fd: () => 3,
    intervalMs: 0,
    fs: disk.fs,
    write: () => {
      disk.log.push('write');
      if (writeFails()) gs.discarded(new Error('spool write failed: EIO'));
      else gs.written();
    },
  });
  return gs;
}

describe('GroupSync (group commit with an injected fdatasync)', () => {
  it('one write and one fdatasync per turn for every waiter of it; nobody is called back before the fdatasync returns', async () => {
    const disk = heldDisk();
    const gs = groupSync(disk);
    const acked: number[] = [];
    for (let i = 0; i < 8; i++) gs.sync(() => acked.push(i), false);
    assert.deepEqual(disk.log, [], 'nothing is written or synced within the turn the records were appended in');
    await turn();
    assert.deepEqual(disk.log, ['write', 'fdatasync']);
    assert.deepEqual(acked, [], 'no acknowledgement before the fdatasync returned');
    disk.finish();
    assert.deepEqual(acked, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a write failure fails the waiters of its records, and no fdatasync is started for them', async () => {
    const disk = heldDisk();
    let fail = true;
    const gs = groupSync(disk, () => fail);
    const results: (Error | null | undefined)[] = [];
    for (let i = 0; i < 3; i++) gs.sync((e) => results.push(e), false);
    await turn();
    assert.deepEqual(disk.log, ['write']);
    assert.equal(results.length, 3);
    for (const e of results) assert.match(String(e?.message), /spool write failed/);
    fail = false;
    gs.sync((e) => results.push(e ?? null), false);
    await turn();
    disk.finish();
    assert.equal(results.at(-1), null, 'the next record is written and synced as usual');
  });

  it('a failed fdatasync acknowledges nothing: its waiters and those written while it ran get the error', async () => {
    const disk = heldDisk();
    const gs = groupSync(disk);
    const first: (Error | null | undefined)[] = [];
    const during: (Error | null | undefined)[] = [];
    const unwritten: (Error | null | undefined)[] = [];
    gs.sync((e) => first.push(e), false);
    await turn();
    gs.sync((e) => during.push(e)); // written while the fdatasync runs
    gs.sync((e) => unwritten.push(e), false); // still pending when it fails
    disk.finish(eio());
    assert.equal(first[0]?.message, 'EIO: injected');
    assert.equal(during[0]?.message, 'EIO: injected', 'its pages may have been in the failed writeback');
    assert.deepEqual(unwritten, [], 'not written yet: the next write and fdatasync serve it');
    await turn();
    disk.finish();
    assert.deepEqual(unwritten, [null]);
  });

  it('a record appended while an fdatasync is in flight waits for the next one, started right after', async () => {
    const disk = heldDisk();
    const gs = groupSync(disk);
    const acked: string[] = [];
    gs.sync(() => acked.push('a'), false);
    await turn();
    gs.sync(() => acked.push('b'), false);
    await turn();
    assert.deepEqual(disk.log, ['write', 'fdatasync'], 'no second write or fdatasync while one is in flight');
    disk.finish();
    assert.deepEqual(acked, ['a'], 'the fdatasync that started before b was written does not cover it');
    await turn();
    assert.deepEqual(disk.log, ['write', 'fdatasync', 'write', 'fdatasync']);
    disk.finish();
    assert.deepEqual(acked, ['a', 'b']);
  });

  it("the next cycle's write and fdatasync come before the immediates the waiters queue (the bursts' ends)", async () => {
    const disk = heldDisk();
    const gs = groupSync(disk);
    const order: string[] = [];
    const connection = (name: string): void =>
      gs.sync(() => {
        // What a connection does when acknowledged: mqtt.js hands over its next message, whose burst ends in an immediate.
        setImmediate(() => order.push(`burst end ${name} after ${disk.log.join(', ')}`));
        connection(name);
      }, false);
    connection('c0');
    connection('c1');
    await turn();
    disk.finish();
    await turn();
    const cycle = 'write, fdatasync, write, fdatasync';
    assert.deepEqual(order, [`burst end c0 after ${cycle}`, `burst end c1 after ${cycle}`]);
    gs.stop();
  });

  it('stop(): waiters of written records are released, those of unwritten ones fail', () => {
    const disk = heldDisk();
    const gs = groupSync(disk);
    const results: (string | null | undefined)[] = [];
    gs.sync((e) => results.push(e?.message ?? null));
    gs.sync((e) => results.push(e?.message ?? null), false);
    gs.stop();
    assert.deepEqual(results, ['spool closed before the record was written', null]);
  });
});
