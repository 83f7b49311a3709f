/**
 * The dm-log-writes replay of the power-cut run: a log written here in qemu's blklogwrites layout (superblock in
 * sector 0, one entry sector + data sectors per request, the superblock rewritten at each flush) is replayed onto
 * an image: everything up to the last flush lands, later writes land per the probability, discards never do.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LOG_DISCARD, LOG_FLUSH, readWriteLog, replayWriteLog } from '../../../scripts/powercut/writeLog.ts';

const SECTOR = 512;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-writelog-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Req =
  | { kind: 'write'; sector: number; fill: number; sectors: number }
  | { kind: 'flush' }
  | { kind: 'discard'; sector: number; sectors: number };

/** The log as qemu would leave it: the superblock counts the entries up to the last flush only. */
function writeLog(file: string, reqs: Req[], opts: { tornTail?: boolean } = {}): void {
  const parts: Buffer[] = [];
  let superEntries = 0;
  reqs.forEach((r, i) => {
    const head = Buffer.alloc(SECTOR);
    const sector = r.kind === 'flush' ? 0 : r.sector;
    const sectors = r.kind === 'flush' ? 0 : r.sectors;
    const flags = r.kind === 'flush' ? LOG_FLUSH : r.kind === 'discard' ? LOG_DISCARD : 0;
    head.writeBigUInt64LE(BigInt(sector), 0);
    head.writeBigUInt64LE(BigInt(sectors), 8);
    head.writeBigUInt64LE(BigInt(flags), 16);
    parts.push(head);
    if (r.kind === 'write') parts.push(Buffer.alloc(sectors * SECTOR, r.fill));
    if (r.kind === 'flush') superEntries = i + 1;
  });
  const sb = Buffer.alloc(SECTOR);
  if (superEntries > 0) {
    sb.writeBigUInt64LE(0x6a736677736872n, 0);
    sb.writeBigUInt64LE(1n, 8);
    sb.writeBigUInt64LE(BigInt(superEntries), 16);
    sb.writeUInt32LE(SECTOR, 24);
  }
  let body = Buffer.concat([sb, ...parts]);
  if (opts.tornTail) body = body.subarray(0, body.length - SECTOR); // qemu died inside the last entry's data
  fs.writeFileSync(file, body);
}

function image(name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.alloc(16 * SECTOR, 0x2e));
  return file;
}

const sectorByte = (file: string, sector: number): number => fs.readFileSync(file)[sector * SECTOR]!;

const REQS: Req[] = [
  { kind: 'write', sector: 1, fill: 0x41, sectors: 2 },
  { kind: 'flush' },
  { kind: 'write', sector: 4, fill: 0x42, sectors: 1 },
  { kind: 'discard', sector: 1, sectors: 1 },
  { kind: 'flush' },
  { kind: 'write', sector: 6, fill: 0x43, sectors: 1 },
  { kind: 'write', sector: 7, fill: 0x44, sectors: 1 },
];

test('reads every whole entry, also those after the superblock count', () => {
  const file = path.join(dir, 'a.log');
  writeLog(file, REQS);
  const log = readWriteLog(file);
  assert.equal(log.superEntries, 5);
  assert.equal(log.entries.length, 7);
  assert.deepEqual(
    log.entries.map((e) => [e.offset / SECTOR, e.bytes / SECTOR, e.flags]),
    [
      [1, 2, 0],
      [0, 0, LOG_FLUSH],
      [4, 1, 0],
      [1, 1, LOG_DISCARD],
      [0, 0, LOG_FLUSH],
      [6, 1, 0],
      [7, 1, 0],
    ],
  );
});

test('replays up to the last flush and drops the later writes at probability 0', () => {
  const file = path.join(dir, 'b.log');
  writeLog(file, REQS);
  const img = image('b.raw');
  const r = replayWriteLog(readWriteLog(file), file, img, 0, Math.random);
  assert.deepEqual([r.lastFlush, r.flushes, r.laterApplied, r.laterDropped, r.droppedBytes], [4, 2, 0, 2, 2 * SECTOR]);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map((s) => sectorByte(img, s)),
    [0x2e, 0x41, 0x41, 0x2e, 0x42, 0x2e, 0x2e, 0x2e],
  );
});

test('applies every later write at probability 1, and a random subset in between', () => {
  const file = path.join(dir, 'c.log');
  writeLog(file, REQS);
  const all = image('c.raw');
  assert.equal(replayWriteLog(readWriteLog(file), file, all, 1, Math.random).laterApplied, 2);
  assert.deepEqual(
    [6, 7].map((s) => sectorByte(all, s)),
    [0x43, 0x44],
  );
  const some = image('d.raw');
  const draws = [0.9, 0.1]; // first later write dropped, second applied
  const r = replayWriteLog(readWriteLog(file), file, some, 0.5, () => draws.shift()!);
  assert.deepEqual([r.laterApplied, r.laterDropped], [1, 1]);
  assert.deepEqual(
    [6, 7].map((s) => sectorByte(some, s)),
    [0x2e, 0x44],
  );
});

test('a log whose last entry is cut short ends before it; a log without any flush replays nothing', () => {
  const torn = path.join(dir, 'e.log');
  writeLog(torn, REQS, { tornTail: true });
  assert.equal(readWriteLog(torn).entries.length, 6);
  const none = path.join(dir, 'f.log');
  writeLog(none, [{ kind: 'write', sector: 2, fill: 0x45, sectors: 1 }]);
  const img = image('f.raw');
  const r = replayWriteLog(readWriteLog(none), none, img, 1, Math.random);
  assert.equal(r.entries, 0);
  assert.equal(sectorByte(img, 2), 0x2e);
  fs.writeFileSync(path.join(dir, 'empty.log'), '');
  assert.equal(readWriteLog(path.join(dir, 'empty.log')).entries.length, 0);
});
