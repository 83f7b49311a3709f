import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../../../src/spool/Entry.ts';
import { entryLines } from '../../../src/spool/Batch.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import type { OverflowPolicy } from '../../../src/config/Config.ts';

export interface SpoolFactoryOptions {
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  readonly sinkCount: number;
}

/** Builds a fresh, opened spool; `cleanup` runs after each test. */
export type SpoolFactory = (options: SpoolFactoryOptions) => Promise<{ spool: Spool; cleanup(): Promise<void> }>;

let seq = 0;
export function entry(points = 1, sinks = 0b11, receivedAt = Date.now()): Entry {
  const n = seq++;
  const lines = Array.from({ length: points }, (_, i) => `m,device=d${n} v=${n}.${i} ${1700000000000000 + n}`).join('\n');
  return { lines, points, sinks, receivedAt };
}

const BIG = { maxPoints: 1_000_000, maxBytes: 1 << 30 };

/**
 * The behaviour every spool must have, run against each implementation (as MQTT.js's abstract store suite and
 * Telegraf's buffer suite do).
 */
export function spoolContract(name: string, build: SpoolFactory): void {
  describe(`${name}: spool contract`, () => {
    async function withSpool(options: Partial<SpoolFactoryOptions>, fn: (spool: Spool) => Promise<void> | void): Promise<void> {
      const { spool, cleanup } = await build({ maxBytes: 1 << 20, overflow: 'dropOldest', sinkCount: 2, ...options });
      try {
        await fn(spool);
      } finally {
        await spool.close();
        await cleanup();
      }
    }

    it('a sink added by a reload starts at the tail: it gets what is appended after, nothing before', () =>
      withSpool({}, (spool) => {
        const before = entry(1, 0b11);
        spool.append(before);
        const index = spool.addSink('added');
        assert.equal(index, 2, 'the next slot: existing bits keep their meaning');
        assert.equal(spool.cursor(index).backlog().points, 0);
        const after = entry(2, 0b111);
        spool.append(after);
        const b = spool.cursor(index).read(BIG)!;
        assert.deepEqual(entryLines(b), [after.lines]);
        spool.cursor(index).commit(b);
        assert.deepEqual(entryLines(spool.cursor(0).read(BIG)!), [before.lines, after.lines], 'the others go on as they were');
      }));

    it('a sink removed by a reload: its backlog (read or not) is counted as dropped, and it holds nothing back', () =>
      withSpool({}, (spool) => {
        for (let i = 0; i < 3; i++) spool.append(entry(2, 0b11));
        const inflight = spool.cursor(1).read({ maxPoints: 2, maxBytes: 1 << 20 })!;
        assert.equal(inflight.points, 2);
        assert.equal(spool.removeSink(1), 6, 'two in flight and four unread');
        assert.equal(spool.cursor(1).dropped(), 6);
        assert.equal(spool.cursor(1).backlog().points, 0);
        const b = spool.cursor(0).read(BIG)!;
        spool.cursor(0).commit(b);
        assert.equal(b.points, 6);
        assert.equal(spool.stats().entries <= 3, true);
        // Slots are not reused: the next sink gets a new bit.
        assert.equal(spool.addSink('again'), 2);
      }));

    it('gives every sink every entry addressed to it, in order', () =>
      withSpool({}, (spool) => {
        const a = entry(1, 0b01);
        const b = entry(2, 0b11);
        const c = entry(1, 0b10);
        for (const e of [a, b, c]) assert.equal(spool.append(e), true);
        const s0 = spool.cursor(0).read(BIG);
        const s1 = spool.cursor(1).read(BIG);
        assert.deepEqual(s0 && entryLines(s0), [a.lines, b.lines]);
        assert.equal(s0?.points, 3);
        assert.deepEqual(s1 && entryLines(s1), [b.lines, c.lines]);
        assert.equal(s1?.points, 3);
      }));

    it('closes a batch at maxPoints and continues where it stopped', () =>
      withSpool({}, (spool) => {
        const es = Array.from({ length: 10 }, () => entry(1));
        for (const e of es) spool.append(e);
        const cur = spool.cursor(0);
        const first = cur.read({ maxPoints: 4, maxBytes: 1 << 20 })!;
        assert.equal(first.points, 4);
        cur.commit(first);
        const second = cur.read({ maxPoints: 4, maxBytes: 1 << 20 })!;
        assert.deepEqual(
          entryLines(second),
          es.slice(4, 8).map((e) => e.lines),
        );
        cur.commit(second);
        assert.equal(cur.read({ maxPoints: 4, maxBytes: 1 << 20 })!.points, 2);
        assert.equal(cur.read(BIG), undefined);
      }));

    it('closes a batch at maxBytes (at least one entry per batch)', () =>
      withSpool({}, (spool) => {
        for (let i = 0; i < 5; i++) spool.append(entry(1));
        const b = spool.cursor(0).read({ maxPoints: 1000, maxBytes: 1 })!;
        assert.equal(b.ends.length, 1);
      }));

    it('reports the backlog per sink, including the batch in flight', () =>
      withSpool({}, (spool) => {
        const t0 = 1_700_000_000_000;
        spool.append(entry(2, 0b01, t0));
        spool.append(entry(3, 0b11, t0 + 5));
        const c0 = spool.cursor(0);
        const c1 = spool.cursor(1);
        assert.equal(c0.backlog().points, 5);
        assert.equal(c0.backlog().oldestAt, t0);
        assert.equal(c1.backlog().points, 3);
        assert.equal(c1.backlog().oldestAt, t0 + 5);
        const b = c0.read({ maxPoints: 1, maxBytes: 1 << 20 })!;
        assert.equal(c0.backlog().points, 5, 'in flight still counts');
        c0.commit(b);
        assert.equal(c0.backlog().points, 3);
        assert.equal(c0.backlog().oldestAt, t0 + 5);
      }));

    it('a sink that does not read never holds back another', () =>
      withSpool({ maxBytes: 4096 }, (spool) => {
        const c0 = spool.cursor(0);
        let got = 0;
        for (let i = 0; i < 500; i++) {
          spool.append(entry(1));
          const b = c0.read(BIG);
          if (b) {
            got += b.points;
            c0.commit(b);
          }
        }
        assert.equal(got, 500);
        assert.equal(c0.dropped(), 0);
        assert.ok(spool.cursor(1).dropped() > 0, 'the stalled sink lost the oldest, counted');
        assert.ok(spool.stats().bytes <= 4096);
      }));

    it('dropOldest: keeps the newest within maxBytes and counts what each sink lost', () =>
      withSpool({ maxBytes: 2048, overflow: 'dropOldest' }, (spool) => {
        const es = Array.from({ length: 100 }, () => entry(1));
        for (const e of es) assert.equal(spool.append(e), true);
        const c0 = spool.cursor(0);
        const b = c0.read(BIG)!;
        assert.ok(spool.stats().bytes <= 2048);
        assert.equal(entryLines(b).at(-1), es.at(-1)!.lines, 'the newest survives');
        assert.equal(c0.dropped() + b.points, 100, 'every point is either readable or counted as dropped');
      }));

    it('block: refuses appends when full and wakes the writer when a sink frees space', async () =>
      withSpool({ maxBytes: 1024, overflow: 'block', sinkCount: 1 }, async (spool) => {
        let accepted = 0;
        while (spool.append(entry(1, 0b1))) accepted++;
        assert.ok(accepted > 0);
        assert.equal(spool.stats().full, true);
        let woke = false;
        const writable = spool.whenWritable().then(() => (woke = true));
        await Promise.resolve();
        assert.equal(woke, false);
        const c = spool.cursor(0);
        const b = c.read(BIG)!;
        assert.equal(b.points, accepted, 'nothing was dropped');
        c.commit(b);
        await writable;
        assert.equal(woke, true);
        assert.equal(spool.append(entry(1, 0b1)), true);
        assert.equal(c.dropped(), 0);
      }));

    it('block: a sink that no entry addresses never holds the spool back', async () =>
      withSpool({ maxBytes: 2048, overflow: 'block' }, async (spool) => {
        const c0 = spool.cursor(0);
        for (let i = 0; i < 200; i++) {
          assert.equal(spool.append(entry(1, 0b01)), true, `append ${i}`);
          const b = c0.read(BIG);
          if (b) c0.commit(b);
        }
        assert.equal(c0.dropped(), 0);
      }));

    it('an entry addressed to no sink is accepted and not kept', () =>
      withSpool({}, (spool) => {
        assert.equal(spool.append(entry(1, 0)), true);
        assert.equal(spool.cursor(0).read(BIG), undefined);
        assert.equal(spool.cursor(1).read(BIG), undefined);
      }));

    it('ready() resolves on count, on age, and on abort', async () =>
      withSpool({}, async (spool) => {
        const c = spool.cursor(0);
        const ac = new AbortController();
        let fired = false;
        const p = c.ready({ maxPoints: 3, maxBytes: 1 << 20, maxWaitMs: 60_000 }, ac.signal).then(() => (fired = true));
        spool.append(entry(1));
        spool.append(entry(1));
        await new Promise((r) => setImmediate(r));
        assert.equal(fired, false);
        spool.append(entry(1));
        await p;
        c.commit(c.read(BIG)!);

        const started = Date.now();
        spool.append(entry(1));
        await c.ready({ maxPoints: 100, maxBytes: 1 << 20, maxWaitMs: 50 }, ac.signal);
        assert.ok(Date.now() - started >= 40, 'waited for the age limit');
        c.commit(c.read(BIG)!);

        const waiting = c.ready({ maxPoints: 100, maxBytes: 1 << 20, maxWaitMs: 60_000 }, ac.signal);
        ac.abort();
        await waiting;
      }));

    it('flushNow() wakes a waiting reader', async () =>
      withSpool({}, async (spool) => {
        const c = spool.cursor(0);
        spool.append(entry(1));
        const waiting = c.ready({ maxPoints: 100, maxBytes: 1 << 20, maxWaitMs: 60_000 }, new AbortController().signal);
        c.flushNow();
        await waiting;
        assert.equal(c.read(BIG)?.points, 1);
      }));
  });
}
