import assert from 'node:assert/strict';
import * as realFs from 'node:fs';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RouteResult } from '../../../../src/pipeline/RouteResult.ts';
import {
  JOURNAL,
  type NodeRecord,
  SparkplugStore,
  type StoreFile,
  type StoreFs,
} from '../../../../src/pipeline/sparkplug/SparkplugStore.ts';
import { DataType } from '../../../../src/sparkplug/DataType.ts';
import { sparkplugKit } from './sparkplugKit.ts';

/** Timers that fire only when the test says so. */
class FakeTimers {
  readonly pending = new Map<number, () => void>();
  #next = 1;
  setTimeout = (fn: () => void, _ms: number): unknown => {
    const id = this.#next++;
    this.pending.set(id, fn);
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };
  /** Fires every pending timer once. */
  fire(): void {
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const fn of fns) fn();
  }
}

interface Held {
  readonly op: string;
  readonly path: string;
  readonly data: string;
  release(error?: Error): void;
}

/**
 * The real synchronous fs (start), and background writes that are recorded and held until the test releases
 * them: the test sees each write, and whether two are ever in flight.
 */
function heldFs(): { fs: StoreFs; held: Held[]; ops: string[] } {
  const held: Held[] = [];
  const ops: string[] = [];
  const hold = (op: string, path: string, data: string, done: () => void): Promise<void> =>
    new Promise((resolve, reject) => {
      ops.push(op);
      held.push({
        op,
        path,
        data,
        release: (error) => {
          held.splice(held.indexOf(held.find((h) => h.op === op && h.data === data)!), 1);
          if (error !== undefined) return reject(error);
          done();
          resolve();
        },
      });
    });
  const fs: StoreFs = {
    mkdirSync: realFs.mkdirSync,
    readdirSync: (p) => realFs.readdirSync(p),
    readFileSync: (p, e) => realFs.readFileSync(p, e),
    writeFileSync: (p, d) => realFs.writeFileSync(p, d),
    renameSync: realFs.renameSync,
    rmSync: realFs.rmSync,
    openSync: (p, f) => realFs.openSync(p, f),
    fsyncSync: realFs.fsyncSync,
    closeSync: realFs.closeSync,
    promises: {
      open: async (path, flags): Promise<StoreFile> => {
        if (flags === 'w') realFs.writeFileSync(path, '');
        return {
          appendFile: (data) => hold('append', path, data, () => appendFileSync(path, data)),
          datasync: () => hold('datasync', path, '', () => {}),
          close: async () => {},
        };
      },
      rename: async (from, to) => realFs.renameSync(from, to),
    },
  };
  return { fs, held, ops };
}

/** Lets the store's promise chain run (the held operations resolve in microtasks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const birth = (seq: number, metrics = 3) => ({
  seq,
  metrics: [
    { name: 'bdSeq', datatype: DataType.UInt64, long_value: 0 },
    ...Array.from({ length: metrics }, (_, i) => ({ name: `m${i}`, alias: i + 1, datatype: DataType.Double, double_value: i })),
  ],
});
const reason = (r: RouteResult) => (r.kind === 'rejected' ? r.reason : r.kind);

describe('SparkplugStore: coalesced background writes', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'eb-spstore-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a storm of 500 NBIRTH + DBIRTH is one append and one fdatasync, and never two writes in flight', async () => {
    const { fs, held, ops } = heldFs();
    const timers = new FakeTimers();
    const d = dir();
    const store = new SparkplugStore({ dir: d, fs, timers });
    const kit = sparkplugKit({ store, maxNodes: 1000 });
    kit.host.start();
    for (let n = 0; n < 500; n++) {
      assert.equal(kit.send(`spBv1.0/plant/NBIRTH/e${n}`, birth(0)).kind, 'ok');
      assert.equal(kit.send(`spBv1.0/plant/DBIRTH/e${n}/pump`, birth(1, 50)).kind, 'ok');
    }
    assert.deepEqual(ops, [], 'nothing written on the event loop while the births arrive');
    assert.equal(timers.pending.size, 1, 'one timer for the whole burst');
    timers.fire();
    await settle();
    assert.equal(held.length, 1);
    assert.equal(held[0]!.path, join(d, JOURNAL), 'an append to the journal');
    const lines = held[0]!.data.trimEnd().split('\n');
    assert.equal(lines.length, 500, "one line per node: its DBIRTH's record superseded its NBIRTH's");
    assert.equal((JSON.parse(lines[0]!) as NodeRecord).devices.pump!.metrics.length, 51);

    // Births during the write: no timer and no second write until it is done.
    kit.send('spBv1.0/plant/NBIRTH/late', birth(0));
    kit.send('spBv1.0/plant/NBIRTH/e0', birth(0));
    assert.equal(timers.pending.size, 0);
    held[0]!.release();
    await settle();
    assert.deepEqual(
      held.map((h) => h.op),
      ['datasync'],
    );
    assert.equal(timers.pending.size, 0, 'still in flight until the fdatasync returns');
    held[0]!.release();
    await settle();
    assert.equal(store.writes, 1);
    assert.equal(timers.pending.size, 1, 'the changes made during the write are scheduled after it');
    timers.fire();
    await settle();
    assert.equal(held[0]!.data.trimEnd().split('\n').length, 2);
    held[0]!.release();
    await settle();
    held[0]!.release();
    await settle();
    assert.deepEqual(ops, ['append', 'datasync', 'append', 'datasync']);
    await store.close();
    assert.equal(kit.stats.storeErrors, 0);
  });

  it('a failed write is counted, kept and tried again; the journal is then rewritten whole', async () => {
    const { fs, held } = heldFs();
    const timers = new FakeTimers();
    const d = dir();
    const store = new SparkplugStore({ dir: d, fs, timers });
    const kit = sparkplugKit({ store });
    kit.host.start();
    kit.send('spBv1.0/plant/NBIRTH/a', birth(0));
    timers.fire();
    await settle();
    held[0]!.release(new Error('ENOSPC: no space left on device'));
    await settle();
    assert.equal(kit.stats.storeErrors, 1);
    assert.match(kit.stats.lastStoreError!, /ENOSPC/);
    assert.equal(timers.pending.size, 1, 'a retry is scheduled');
    timers.fire();
    await settle();
    assert.equal(held[0]!.path, join(d, `${JOURNAL}.tmp`), 'a rewrite: the failed append may have left a torn line');
    held[0]!.release();
    await settle();
    held[0]!.release();
    await settle();
    assert.equal(store.writes, 1);
    assert.equal(readFileSync(join(d, JOURNAL), 'utf8').split('\n').length, 2);
    await store.close();
  });

  it('a crash before the write loses the BIRTH: data then is refused as sparkplug_no_birth and asks for a Rebirth', async () => {
    const d = dir();
    const timers = new FakeTimers();
    const first = sparkplugKit({ store: new SparkplugStore({ dir: d, timers }) });
    first.host.start();
    first.send('spBv1.0/plant/NBIRTH/a', birth(0));
    // The process dies here: the timer never fires, nothing reached the file.
    const second = sparkplugKit({ store: new SparkplugStore({ dir: d }), rebirth: true });
    assert.deepEqual(second.host.start(), []);
    assert.equal(second.stats.nodes, 0);
    assert.equal(reason(second.send('spBv1.0/plant/NDATA/a', { seq: 1, metrics: [{ alias: 1, double_value: 1 }] })), 'sparkplug_no_birth');
    assert.deepEqual(
      second.published.map(([t]) => t),
      ['spBv1.0/plant/NCMD/a'],
    );
    await second.host.stop();
  });

  it('a crash before the write of a newer BIRTH: the older alias map is read, aliases it lacks are refused', async () => {
    const d = dir();
    const first = sparkplugKit({ store: new SparkplugStore({ dir: d }) });
    first.host.start();
    first.send('spBv1.0/plant/NBIRTH/a', birth(0, 2));
    await first.host.stop();
    const timers = new FakeTimers();
    const second = sparkplugKit({ store: new SparkplugStore({ dir: d, timers }) });
    second.host.start();
    second.send('spBv1.0/plant/NBIRTH/a', birth(0, 3)); // a third metric: never written, the process dies
    const third = sparkplugKit({ store: new SparkplugStore({ dir: d }) });
    third.host.start();
    assert.equal(third.send('spBv1.0/plant/NDATA/a', { seq: 1, metrics: [{ alias: 2, double_value: 1 }] }).kind, 'ok');
    assert.equal(
      reason(third.send('spBv1.0/plant/NDATA/a', { seq: 2, metrics: [{ alias: 3, double_value: 1 }] })),
      'sparkplug_unknown_alias',
    );
    await third.host.stop();
  });

  it('a torn last line (a write cut short) is reported; the lines before it are read; old per-node files are folded in', async () => {
    const d = dir();
    const kit = sparkplugKit({ store: new SparkplugStore({ dir: d }) });
    kit.host.start();
    kit.send('spBv1.0/plant/NBIRTH/a', birth(0));
    await kit.host.stop();
    appendFileSync(join(d, JOURNAL), '{"group":"plant","node":"b","bdSeq":"0","onl');
    const legacy: NodeRecord = {
      group: 'plant',
      node: 'old',
      bdSeq: '3',
      online: true,
      metrics: [[1, 'x', DataType.Double, []]],
      devices: {},
    };
    writeFileSync(join(d, '0123456789abcdef0123456789abcdef.json'), JSON.stringify(legacy));
    writeFileSync(join(d, `${JOURNAL}.tmp`), 'half a rewrite');

    const again = sparkplugKit({ store: new SparkplugStore({ dir: d }) });
    const unreadable = again.host.start();
    assert.equal(unreadable.length, 1);
    assert.match(unreadable[0]!, /^nodes\.jsonl line 2: /);
    assert.equal(again.stats.storeErrors, 1);
    assert.equal(again.stats.nodes, 2);
    assert.equal(again.send('spBv1.0/plant/NDATA/old', { seq: 1, metrics: [{ alias: 1, double_value: 1 }] }).kind, 'ok');
    assert.deepEqual(readdirSync(d), [JOURNAL], 'rewritten at start: the old files and the torn line are gone');
    assert.equal(readFileSync(join(d, JOURNAL), 'utf8').trimEnd().split('\n').length, 2);
    await again.host.stop();
  });

  it('the journal is rewritten with the live records when it has grown past twice its size', async () => {
    const d = dir();
    const timers = new FakeTimers();
    const store = new SparkplugStore({ dir: d, timers, minRewriteBytes: 1 });
    const kit = sparkplugKit({ store });
    kit.host.start();
    for (let round = 0; round < 4; round++) {
      kit.send('spBv1.0/plant/NBIRTH/a', birth(0, round + 1));
      kit.send('spBv1.0/plant/NBIRTH/b', birth(0));
      timers.fire();
      while (store.writes < round + 1) await settle(); // the real disk's write
    }
    await kit.host.stop();
    assert.equal(store.writes, 4);
    const lines = readFileSync(join(d, JOURNAL), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 2, 'one line per node, not one per change');
    assert.equal((JSON.parse(lines.find((l) => l.includes('"node":"a"'))!) as NodeRecord).metrics.length, 5);
  });

  it('a rewrite at start that fails keeps what was read (counted); the next write rewrites', async () => {
    const d = dir();
    const kit = sparkplugKit({ store: new SparkplugStore({ dir: d }) });
    kit.host.start();
    kit.send('spBv1.0/plant/NBIRTH/a', birth(0));
    await kit.host.stop();
    const { fs, held } = heldFs();
    const timers = new FakeTimers();
    const failing: StoreFs = {
      ...fs,
      writeFileSync: () => {
        throw new Error('EROFS: read-only file system');
      },
    };
    const again = sparkplugKit({ store: new SparkplugStore({ dir: d, fs: failing, timers }) });
    assert.deepEqual(again.host.start(), []);
    assert.equal(again.stats.nodes, 1);
    assert.equal(again.stats.storeErrors, 1);
    assert.match(again.stats.lastStoreError!, /EROFS/);
    assert.equal(again.send('spBv1.0/plant/NDATA/a', { seq: 1, metrics: [{ alias: 1, double_value: 1 }] }).kind, 'ok');
    again.send('spBv1.0/plant/NBIRTH/b', birth(0));
    timers.fire();
    await settle();
    assert.equal(held[0]!.path, join(d, `${JOURNAL}.tmp`));
    held[0]!.release();
    await settle();
    held[0]!.release();
    await settle();
    await again.host.stop();
    assert.equal(readFileSync(join(d, JOURNAL), 'utf8').trimEnd().split('\n').length, 2);
  });

  it('an evicted node is removed from the journal', async () => {
    const d = dir();
    const kit = sparkplugKit({ store: new SparkplugStore({ dir: d }), maxNodes: 1 });
    kit.host.start();
    kit.send('spBv1.0/plant/NBIRTH/a', birth(0));
    kit.send('spBv1.0/plant/NBIRTH/b', birth(0));
    await kit.host.stop();
    const again = sparkplugKit({ store: new SparkplugStore({ dir: d }) });
    again.host.start();
    assert.equal(again.stats.nodes, 1);
    assert.equal(reason(again.send('spBv1.0/plant/NDATA/a', { seq: 1, metrics: [{ alias: 1, double_value: 1 }] })), 'sparkplug_no_birth');
    await again.host.stop();
  });
});
