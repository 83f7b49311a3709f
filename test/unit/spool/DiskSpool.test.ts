import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskSpool } from '../../../src/spool/disk/DiskSpool.ts';
import { spoolContract } from './spoolContract.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

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
