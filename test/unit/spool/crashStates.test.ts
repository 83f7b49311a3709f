import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCrashState, durableOps, sectorCount, type CrashChoice } from '../../harness/crash/crashStates.ts';
import { exploreCrashes, formatReport } from '../../harness/crash/exploreCrashes.ts';
import type { FsOp } from '../../harness/crash/MemoryFs.ts';

/** Seeded: the same states every run. `npm run crash-explore -- --seed N --states N` explores more. */
const SEED = 20_261_203;

describe('disk spool: the crash states a power cut can leave', () => {
  for (const ack of ['fsync', 'write'] as const) {
    it(`ack=${ack}: every invariant holds on every state explored`, async (t) => {
      const r = await exploreCrashes({ seed: SEED, ack, states: 1000, messages: 200 });
      t.diagnostic(formatReport(r));
      assert.deepEqual(r.failures, [], formatReport(r));
      assert.ok(r.states >= 900, `${r.states} states`);
      // The explorer reached the states that matter: torn writes, partly applied unsynced ops, damage to repair.
      assert.ok(r.torn > 100 && r.partial > 100 && r.damaged > 0, formatReport(r));
    });
  }

  it('the explorer itself: a disk whose fdatasync makes nothing durable breaks the ack=fsync promise, and it says so', async () => {
    const r = await exploreCrashes({ seed: SEED, ack: 'fsync', states: 200, messages: 60, lyingFdatasync: true, maxFailures: 1 });
    assert.equal(r.failures.length, 1);
    assert.match(r.failures[0]!.violations[0]!, /^\[2\] ack=fsync: .* lost$/);
  });

  it('a state: synced ops stay, unsynced ones per file as chosen, a torn write keeps only its chosen sectors', () => {
    const ops: FsOp[] = [
      { kind: 'create', file: '/d/a', ino: 1 },
      { kind: 'fsyncDir', dir: '/d' },
      { kind: 'write', ino: 1, offset: 0, data: Buffer.alloc(600, 1) },
      { kind: 'fdatasync', ino: 1 },
      { kind: 'write', ino: 1, offset: 600, data: Buffer.alloc(1000, 2) },
      { kind: 'create', file: '/d/b.tmp', ino: 2 },
      { kind: 'write', ino: 2, offset: 0, data: Buffer.from('{"x":1}') },
      { kind: 'rename', from: '/d/b.tmp', to: '/d/b', ino: 2 },
    ];
    const durable = durableOps(ops, ops.length);
    assert.deepEqual(durable, [true, true, true, true, false, false, false, false]);
    const choice = (over: Partial<CrashChoice>): CrashChoice => ({
      dataPrefix: () => 0,
      tornSectors: () => undefined,
      torn: false,
      dirApplied: () => false,
      label: '',
      ...over,
    });
    const synced = buildCrashState(ops, ops.length, durable, choice({}));
    assert.deepEqual([...synced.files.keys()], ['/d/a']);
    assert.equal(synced.files.get('/d/a')!.length, 600);
    // The second write spans sectors 1–3 of the file (600..1600): only its last sector (1536..1600) lands.
    assert.equal(sectorCount(600, 1000), 3);
    const torn = buildCrashState(ops, ops.length, durable, choice({ tornSectors: (ino) => (ino === 1 ? [2] : undefined) }));
    const a = torn.files.get('/d/a')!;
    assert.equal(a.length, 1600);
    assert.ok(
      a.subarray(600, 1536).every((b) => b === 0),
      'what did not land reads as zeros',
    );
    assert.ok(a.subarray(1536).every((b) => b === 2));
    // The rename landed, the data of the file it names did not: an empty checkpoint (the spool re-sends).
    const renamed = buildCrashState(ops, ops.length, durable, choice({ dirApplied: (n) => n === 1 }));
    assert.equal(renamed.files.get('/d/b')!.length, 0);
    assert.equal(renamed.files.has('/d/b.tmp'), false);
  });
});
