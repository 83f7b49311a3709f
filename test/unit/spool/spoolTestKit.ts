import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'node:test';
import { DiskSpool, type DiskSpoolOptions } from '../../../src/spool/disk/DiskSpool.ts';
import { entryLines } from '../../../src/spool/Batch.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

/** Shared by the disk spool's fault tests: temp dirs, open with defaults for tests, read everything. */
export const BIG = { maxPoints: 1_000_000, maxBytes: 1 << 30 };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-spool-fault-'));
  dirs.push(d);
  return d;
}

export async function openSpool(
  dir: string,
  overrides: Partial<DiskSpoolOptions> = {},
): Promise<{ spool: DiskSpool; log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger();
  const spool = new DiskSpool({
    dir,
    sinks: ['influx', 'redis'],
    maxBytes: 1 << 24,
    overflow: 'dropOldest',
    ack: 'write',
    fsyncIntervalMs: 200,
    segmentBytes: 1 << 20,
    checkpointIntervalMs: 1,
    logger: log.logger,
    ...overrides,
  });
  await spool.open();
  return { spool, log };
}

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(dir, 'segments'))
    .filter((f) => f.endsWith('.seg'))
    .sort()
    .map((f) => path.join(dir, 'segments', f));
}

export function readAll(spool: DiskSpool, sink: number): string[] {
  const out: string[] = [];
  const c = spool.cursor(sink);
  for (let b = c.read(BIG); b; b = c.read(BIG)) {
    out.push(...entryLines(b));
    c.commit(b);
  }
  return out;
}

/**
 * Offsets of the records of a segment file. Format 2: header magic 8, length 4, CRC 4, JSON; record frame marker 4,
 * CRC 4, length 4. Format 1 (read too, so these tests can be run against the previous version): header magic 8,
 * length 4, JSON; frame length 4, CRC 4. `lengthAt` is where a record's length field sits.
 */
export function recordOffsets(file: string): number[] {
  const bytes = fs.readFileSync(file);
  const v1 = bytes.subarray(0, 8).toString('latin1') === 'EBSPOOL1';
  const frame = v1 ? 8 : 12;
  const out: number[] = [];
  for (let at = (v1 ? 12 : 16) + bytes.readUInt32LE(8); at + frame <= bytes.length; at += frame + bytes.readUInt32LE(at + lengthAt(file)))
    out.push(at);
  return out;
}

export function lengthAt(file: string): number {
  const magic = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, magic, 0, 8, 0);
  fs.closeSync(fd);
  return magic.toString('latin1') === 'EBSPOOL1' ? 0 : 8;
}

export function flipByte(file: string, offset: number, mask = 0xff): void {
  const bytes = fs.readFileSync(file);
  bytes[offset] = bytes[offset]! ^ mask;
  fs.writeFileSync(file, bytes);
}
