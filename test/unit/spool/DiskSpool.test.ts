import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskSpool } from '../../../src/spool/disk/DiskSpool.ts';
import { spoolContract } from './spoolContract.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entry } from './spoolContract.ts';
import { openSpool, readAll, segmentFiles, tempDir } from './spoolTestKit.ts';

spoolContract('DiskSpool', async (options) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-disk-spool-'));
  const spool = new DiskSpool({
    dir,
    sinks: Array.from({ length: options.sinkCount }, (_, i) => `s${i}`),
    maxBytes: options.maxBytes,
    overflow: options.overflow,
    ack: 'write',
    fsyncIntervalMs: 200,
    // Small segments so that the overflow tests cross segment boundaries.
    segmentBytes: 256,
    checkpointIntervalMs: 1000,
    logger: memoryLogger().logger,
  });
  await spool.open();
  return { spool, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
});

describe('DiskSpool: sinks added and removed by a reload, then a restart', () => {
  it('the added sink resumes at its checkpoint, the removed one is left at the tail, the rest as before', async () => {
    const dir = tempDir();
    let { spool } = await openSpool(dir);
    spool.append(entry(1, 0b11));
    const added = spool.addSink('cloud');
    assert.equal(added, 2);
    const forAll = entry(1, 0b111);
    spool.append(forAll);
    assert.equal(spool.removeSink(1), 2, 'redis had both entries waiting');
    const last = entry(1, 0b101);
    spool.append(last);
    assert.deepEqual(readAll(spool, added), [forAll.lines, last.lines]);
    await spool.close();

    // Restarted with the new configuration: influx and cloud; redis is gone.
    ({ spool } = await openSpool(dir, { sinks: ['influx', 'cloud'] }));
    assert.equal(spool.cursor(1).backlog().points, 0, 'cloud committed everything: nothing is sent twice');
    assert.equal(readAll(spool, 0).length, 3, 'influx still has its three');
    const next = entry(1, 0b11);
    spool.append(next);
    assert.deepEqual(readAll(spool, 1), [next.lines]);
    await spool.close();
    assert.ok(segmentFiles(dir).length >= 1);
  });
});
