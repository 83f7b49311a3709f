import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { entry } from './spoolContract.ts';
import { openSpool, readAll, recordOffsets, segmentFiles, tempDir } from './spoolTestKit.ts';

/** Seeded xorshift: a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('DiskSpool under random bit rot (seeded)', () => {
  it('random byte flips in the records: no crash, no garbage delivered, each flip costs at most one record, losses counted', async () => {
    const cases = 100;
    for (let seed = 1; seed <= cases; seed++) {
      const random = rng(seed);
      const dir = tempDir();
      const segmentBytes = 2048 + Math.floor(random() * 8192);
      const n = 50 + Math.floor(random() * 150);
      const entries = Array.from({ length: n }, () => entry(1 + Math.floor(random() * 3), 0b11));
      let { spool } = await openSpool(dir, { segmentBytes });
      for (const e of entries) spool.append(e);
      await spool.close();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        const files = segmentFiles(dir);
        const file = files[Math.floor(random() * files.length)]!;
        const offsets = recordOffsets(file);
        if (offsets.length === 0) continue;
        const bytes = fs.readFileSync(file);
        const first = offsets[0]!;
        const at = first + Math.floor(random() * (bytes.length - first));
        bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
        fs.writeFileSync(file, bytes);
      }
      ({ spool } = await openSpool(dir, { segmentBytes }));
      const got = readAll(spool, 0);
      const want = new Set(entries.map((e) => e.lines));
      for (const g of got) assert.ok(want.has(g), `seed ${seed}: garbage delivered: ${JSON.stringify(g)}`);
      assert.equal(new Set(got).size, got.length, `seed ${seed}: nothing delivered twice`);
      assert.ok(got.length >= n - flips, `seed ${seed}: ${got.length} of ${n} after ${flips} flips`);
      const stats = spool.stats();
      const counted = stats.recordsLost!.influx!.corrupt + (stats.tornBytesRecovered! > 0 ? 1 : 0);
      if (got.length < n) assert.ok(counted >= 1, `seed ${seed}: ${n - got.length} lost, none counted`);
      await spool.close();
    }
  });
});
