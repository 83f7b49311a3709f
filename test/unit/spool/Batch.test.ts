import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BatchCollector } from '../../../src/spool/BatchCollector.ts';
import { batchOf, entryLines, splitBatch } from '../../../src/spool/Batch.ts';

const info = (positions: number[]) => ({ positions, origin: 'o', firstReceivedAt: 0, lastReceivedAt: 0, end: 0 });

describe('Batch bytes', () => {
  it('BatchCollector gathers text and bytes of any size (multi-byte too) into the same batch as batchOf (property)', () => {
    const text = fc.string({ maxLength: 3000, unit: 'grapheme' });
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.array(fc.tuple(fc.boolean(), text), { minLength: 1, maxLength: 20 }),
        (expectedBytes, entries) => {
          const collected = new BatchCollector(expectedBytes);
          entries.forEach(([asBytes, s], i) => {
            if (asBytes) {
              const source = Buffer.from(`xx${s}yy`);
              collected.addBytes(source, 2, source.length - 2, i, 1, 1, i);
            } else {
              collected.addText(s, i, 1, 1, i);
            }
          });
          const batch = collected.build('o', 0)!;
          const chunks = entries.map(([, s]) => s);
          const expected = batchOf(chunks, info(batch.positions.slice()));
          assert.deepEqual(entryLines(batch), chunks);
          assert.deepEqual(batch.text, expected.text);
          assert.deepEqual(batch.ends, expected.ends);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('splitBatch halves multi-byte text on entry (or line) boundaries, losing nothing (property)', () => {
    const chunk = fc.string({ maxLength: 20, unit: fc.constantFrom('a', 'é', '😀', ' ', '=', '"', '\\', '\n', ',') });
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 6 }), (chunks) => {
        const batch = batchOf(chunks, info(chunks.map((_, i) => i * 10)));
        const halves = splitBatch(batch);
        if (halves === undefined) return;
        const [a, b] = halves;
        if (chunks.length > 1) {
          assert.deepEqual([...entryLines(a), ...entryLines(b)], chunks);
          assert.deepEqual(Buffer.concat([a.text, b.text]), batch.text);
          assert.deepEqual([...a.positions, ...b.positions], batch.positions);
        }
        for (const half of [a, b]) {
          assert.equal(half.ends.length, half.positions.length);
          assert.equal(half.ends.at(-1)! + 1, half.text.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
