import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isolateBadPoints } from '../../../src/sinks/isolateBadPoints.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';
import { batchOf, entryLines, type Batch } from '../../../src/spool/Batch.ts';
import type { WriteResult } from '../../../src/sinks/Sink.ts';

const never = new AbortController().signal;
const bad = (why: string) => new SinkError(why, { kind: 'data', retryable: false, status: 400 });

function batch(chunks: string[]): Batch {
  return batchOf(chunks, { positions: chunks.map((_, i) => i), origin: 't', firstReceivedAt: 0, lastReceivedAt: 0, end: chunks.length });
}

/** A server that refuses any piece holding a line with BAD, naming the first such line, and records what it wrote. */
function server() {
  const written: string[] = [];
  let requests = 0;
  const send = async (piece: Batch): Promise<WriteResult> => {
    requests++;
    const lines = entryLines(piece).flatMap((e) => e.split('\n'));
    const first = lines.find((l) => l.includes('BAD'));
    if (first !== undefined) throw bad(`unable to parse '${first}'`);
    written.push(...lines);
    return { accepted: piece.points, rejected: 0 };
  };
  return { written, send, requests: () => requests };
}

const lines = (n: number, badAt: readonly number[]) =>
  Array.from({ length: n }, (_, i) => (badAt.includes(i) ? `m,d=BAD${i} v=x` : `m,d=d${i} v=${i}`));

describe('isolateBadPoints', () => {
  it('one bad line among 1000: the 999 are written, the bad one alone is rejected with the server message', async () => {
    const s = server();
    const dead: [string, string, boolean][] = [];
    const b = batch(lines(1000, [637]));
    const r = await isolateBadPoints(b, bad('first'), {
      send: s.send,
      splitLines: true,
      signal: never,
      onRejected: (t, why, alone) => dead.push([t, why, alone]),
    });
    assert.deepEqual(r, { accepted: 999, rejected: 1, reason: "unable to parse 'm,d=BAD637 v=x'" });
    assert.equal(s.written.length, 999);
    assert.deepEqual(dead, [['m,d=BAD637 v=x', "unable to parse 'm,d=BAD637 v=x'", true]]);
    // About 2·log2(1000) requests, not 1000.
    assert.ok(s.requests() <= 2 * Math.ceil(Math.log2(1000)), `requests ${s.requests()}`);
  });

  it('good lines keep their order', async () => {
    const s = server();
    await isolateBadPoints(batch(lines(64, [3, 40])), bad('x'), { send: s.send, splitLines: true, signal: never });
    assert.deepEqual(
      s.written,
      lines(64, [3, 40]).filter((l) => !l.includes('BAD')),
    );
  });

  it('three bad lines: exactly three rejected, each dead-lettered alone', async () => {
    const s = server();
    const dead: string[] = [];
    const r = await isolateBadPoints(batch(lines(500, [0, 250, 499])), bad('x'), {
      send: s.send,
      splitLines: true,
      signal: never,
      onRejected: (t) => dead.push(t),
    });
    assert.equal(r.accepted, 497);
    assert.equal(r.rejected, 3);
    assert.equal(r.unisolated, undefined);
    assert.deepEqual(dead, ['m,d=BAD0 v=x', 'm,d=BAD250 v=x', 'm,d=BAD499 v=x']);
  });

  it('bounded: every other line bad stops splitting once the budget is spent; the rest is rejected whole, counted', async () => {
    const n = 1024;
    const s = server();
    const badAt = Array.from({ length: n / 2 }, (_, i) => 2 * i);
    const alone: number[] = [];
    const whole: number[] = [];
    const r = await isolateBadPoints(batch(lines(n, badAt)), bad('x'), {
      send: s.send,
      splitLines: true,
      signal: never,
      onRejected: (t, _why, isolated) => (isolated ? alone : whole).push(t.split('\n').length),
    });
    const levels = Math.ceil(Math.log2(n)) + 1;
    // Budget 16·levels, plus at most one request per level for the pieces still on the stack when it ran out.
    assert.ok(s.requests() <= 16 * levels + levels, `requests ${s.requests()}`);
    assert.equal(r.accepted + r.rejected, n);
    assert.ok((r.unisolated ?? 0) > 0);
    assert.equal(r.rejected, alone.length + (r.unisolated ?? 0));
    assert.equal(
      whole.reduce((a, b) => a + b, 0),
      r.unisolated,
    );
    assert.equal(s.written.length, r.accepted);
  });

  it('entries only (Redis): a multi-line entry is rejected as a unit, never split into its lines', async () => {
    const s = server();
    const chunks = ['m,d=a v=1', 'm,d=b v=1\nm,d=BADb v=x', 'm,d=c v=1'];
    const b = batchOf(chunks, { positions: [0, 1, 2], origin: 't', firstReceivedAt: 0, lastReceivedAt: 0, end: 3 });
    const dead: string[] = [];
    const r = await isolateBadPoints(b, bad('x'), { send: s.send, splitLines: false, signal: never, onRejected: (t) => dead.push(t) });
    assert.equal(r.accepted, 2);
    assert.equal(r.rejected, 2);
    assert.equal(r.unisolated, undefined);
    assert.deepEqual(dead, ['m,d=b v=1\nm,d=BADb v=x']);
  });

  it('a retryable error in a piece throws: the worker keeps the whole batch', async () => {
    let calls = 0;
    const send = async (): Promise<WriteResult> => {
      calls++;
      throw new SinkError('down', { kind: 'unavailable', retryable: true });
    };
    await assert.rejects(isolateBadPoints(batch(lines(8, [1])), bad('x'), { send, splitLines: true, signal: never }), /down/);
    assert.equal(calls, 1);
  });
});
