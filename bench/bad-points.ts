/**
 * What isolating bad lines costs: requests per batch and points written / rejected / rejected unisolated, for bad
 * lines spread evenly over a batch, against a server that refuses any piece holding one (as InfluxDB answers 400).
 * In process, no network: the request count is what matters (each costs a round trip to the real server).
 * Run: node bench/bad-points.ts  (figures in docs/partial-writes.md)
 */
import { isolateBadPoints } from '../src/sinks/isolateBadPoints.ts';
import { SinkError } from '../src/sinks/SinkError.ts';
import { batchOf, entryLines, type Batch } from '../src/spool/Batch.ts';

const bad = () => new SinkError('bad line', { kind: 'data', retryable: false, status: 400 });
const cases: readonly (readonly [number, number])[] = [
  [1000, 1],
  [5000, 1],
  [5000, 3],
  [5000, 10],
  [5000, 2500],
];
for (const [n, k] of cases) {
  const badAt = new Set(Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k)));
  const chunks = Array.from({ length: n }, (_, i) => (badAt.has(i) ? `m,d=BAD v=1 ${i}` : `m,d=ok v=1 ${i}`));
  const b = batchOf(chunks, { positions: chunks.map((_, i) => i), origin: 'o', firstReceivedAt: 0, lastReceivedAt: 0, end: n });
  let requests = 1; // the batch's own write, which failed
  const r = await isolateBadPoints(b, bad(), {
    splitLines: true,
    signal: new AbortController().signal,
    send: async (piece: Batch) => {
      requests++;
      if (entryLines(piece).some((l) => l.includes('BAD'))) throw bad();
      return { accepted: piece.points, rejected: 0 };
    },
  });
  console.log(`batch ${n}, bad ${k}: requests ${requests}, written ${r.accepted}, rejected ${r.rejected}, unisolated ${r.unisolated ?? 0}`);
}
