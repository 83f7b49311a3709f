import path from 'node:path';
import type { Rng } from '../../../scripts/bulk/prng.ts';
import type { FsOp } from './MemoryFs.ts';

export const SECTOR = 512;

/**
 * Which of the ops not yet made durable at the crash reached the disk anyway. Per file: a file's unsynced writes
 * reach the disk in order, but files are written back independently (a checkpoint may land, the segment data it
 * points at not).
 */
export interface CrashChoice {
  /** How many of the file's (inode's) unsynced data ops (writes, truncates), in order, made it. */
  readonly dataPrefix: (ino: number) => number;
  /** The file's next unsynced write after its prefix, torn: the indexes of its 512-byte sectors that made it. */
  readonly tornSectors: (ino: number) => readonly number[] | undefined;
  readonly torn: boolean;
  /** Each unsynced directory change (create, rename, unlink): applied or not. */
  readonly dirApplied: (n: number) => boolean;
  readonly label: string;
}

export interface CrashState {
  /** The power was cut after `at` ops of the log. */
  readonly at: number;
  readonly label: string;
  readonly files: Map<string, Buffer>;
  /** Ops that were not durable at the cut, and how many of them the state holds. */
  readonly unsynced: number;
  readonly applied: number;
}

/**
 * Which of `ops[0..at)` a power cut at `at` cannot lose (CrashMonkey's persistence points): a write or truncate
 * followed by an fdatasync of its inode before the cut, a create, rename or unlink followed by an fsync of its
 * directory. Everything else may or may not have reached the disk.
 */
export function durableOps(ops: readonly FsOp[], at: number): boolean[] {
  const durable = new Array<boolean>(at).fill(false);
  const syncedInodes = new Set<number>();
  const syncedDirs = new Set<string>();
  for (let i = at - 1; i >= 0; i--) {
    const op = ops[i]!;
    switch (op.kind) {
      case 'fdatasync':
        syncedInodes.add(op.ino);
        durable[i] = true;
        break;
      case 'fsyncDir':
        syncedDirs.add(op.dir);
        durable[i] = true;
        break;
      case 'write':
      case 'truncate':
        durable[i] = syncedInodes.has(op.ino);
        break;
      case 'create':
      case 'unlink':
        durable[i] = syncedDirs.has(path.dirname(op.file));
        break;
      case 'rename':
        durable[i] = syncedDirs.has(path.dirname(op.from)) && syncedDirs.has(path.dirname(op.to));
        break;
    }
  }
  return durable;
}

/** The files a power cut at `at` leaves when the durable ops and the chosen unsynced ones reached the disk. */
export function buildCrashState(ops: readonly FsOp[], at: number, durable: readonly boolean[], choice: CrashChoice): CrashState {
  const names = new Map<string, number>();
  const inodes = new Map<number, Buffer>();
  const dataSeen = new Map<number, number>();
  let dirSeen = 0;
  let unsynced = 0;
  let applied = 0;
  const data = (ino: number): Buffer => inodes.get(ino) ?? Buffer.alloc(0);
  for (let i = 0; i < at; i++) {
    const op = ops[i]!;
    if (op.kind === 'fdatasync' || op.kind === 'fsyncDir') continue;
    let apply = durable[i]!;
    let sectors: readonly number[] | undefined;
    if (!apply) {
      unsynced++;
      if (op.kind === 'write' || op.kind === 'truncate') {
        const n = dataSeen.get(op.ino) ?? 0;
        dataSeen.set(op.ino, n + 1);
        const prefix = choice.dataPrefix(op.ino);
        apply = n < prefix;
        if (n === prefix && op.kind === 'write') sectors = choice.tornSectors(op.ino);
      } else apply = choice.dirApplied(dirSeen++);
      if (apply || sectors !== undefined) applied++;
    }
    switch (op.kind) {
      case 'create':
        if (apply) {
          names.set(op.file, op.ino);
          if (!inodes.has(op.ino)) inodes.set(op.ino, Buffer.alloc(0));
        }
        break;
      case 'write':
        if (apply) inodes.set(op.ino, writeAt(data(op.ino), op.offset, op.data));
        else if (sectors !== undefined) inodes.set(op.ino, writeSectors(data(op.ino), op.offset, op.data, sectors));
        break;
      case 'truncate':
        if (apply) inodes.set(op.ino, truncateTo(data(op.ino), op.length));
        break;
      case 'rename':
        if (apply) {
          if (names.get(op.from) === op.ino) names.delete(op.from);
          names.set(op.to, op.ino);
        }
        break;
      case 'unlink':
        if (apply && names.get(op.file) === op.ino) names.delete(op.file);
        break;
    }
  }
  const files = new Map<string, Buffer>();
  for (const [name, ino] of names) files.set(name, data(ino));
  return { at, label: choice.label, files, unsynced, applied };
}

/** The 512-byte sectors a write of `length` bytes at `offset` touches. */
export function sectorCount(offset: number, length: number): number {
  return length === 0 ? 0 : Math.floor((offset + length - 1) / SECTOR) - Math.floor(offset / SECTOR) + 1;
}

/**
 * The choices explored at one crash point: nothing unsynced made it; everything did (what a process kill leaves);
 * and `random` more: per file a random prefix of its unsynced data ops, often with the next write torn (a random
 * subset or a prefix of its sectors, never all), and each unsynced directory change applied or not.
 * `unsynced`: per inode, the sector counts of its unsynced data ops in order (0 for a truncate).
 */
export function crashChoices(unsynced: ReadonlyMap<number, readonly number[]>, rng: Rng, random: number): CrashChoice[] {
  const out: CrashChoice[] = [
    { dataPrefix: () => 0, tornSectors: () => undefined, torn: false, dirApplied: () => false, label: 'synced only' },
    { dataPrefix: () => Infinity, tornSectors: () => undefined, torn: false, dirApplied: () => true, label: 'everything' },
  ];
  for (let k = 0; k < random; k++) {
    const prefix = new Map<number, number>();
    const torn = new Map<number, number[]>();
    const parts: string[] = [];
    for (const [ino, ops] of unsynced) {
      // Most files all or nothing, some cut in the middle: the interesting states are the mixed ones.
      const r = rng();
      const p = r < 0.3 ? 0 : r < 0.6 ? ops.length : Math.floor(rng() * (ops.length + 1));
      prefix.set(ino, p);
      const next = ops[p];
      if (next !== undefined && next > 0 && rng() < 0.5) {
        let sectors: number[] = [];
        if (rng() < 0.5) sectors = Array.from({ length: Math.floor(rng() * next) }, (_, s) => s);
        else {
          for (let s = 0; s < next; s++) if (rng() < 0.5) sectors.push(s);
          if (sectors.length === next) sectors.splice(Math.floor(rng() * next), 1);
        }
        torn.set(ino, sectors);
      }
      if (p < ops.length) parts.push(`ino ${ino}: ${p}/${ops.length}${torn.has(ino) ? ` torn [${torn.get(ino)!.join(',')}]` : ''}`);
    }
    const dirBits = Array.from({ length: 64 }, () => rng() < 0.5);
    out.push({
      dataPrefix: (ino) => prefix.get(ino) ?? 0,
      tornSectors: (ino) => torn.get(ino),
      torn: torn.size > 0,
      dirApplied: (n) => dirBits[n % 64]!,
      label: parts.length === 0 ? 'all data, some directory changes' : parts.join('; '),
    });
  }
  return out;
}

function writeAt(old: Buffer, offset: number, bytes: Buffer): Buffer {
  const end = Math.max(old.length, offset + bytes.length);
  const next = Buffer.alloc(end);
  old.copy(next);
  bytes.copy(next, offset);
  return next;
}

/** Only the given sectors of the write reached the disk (a file extended past its end gets zeros before them). */
function writeSectors(old: Buffer, offset: number, bytes: Buffer, sectors: readonly number[]): Buffer {
  let out = old;
  const first = Math.floor(offset / SECTOR);
  for (const s of sectors) {
    const from = Math.max(offset, (first + s) * SECTOR);
    const to = Math.min(offset + bytes.length, (first + s + 1) * SECTOR);
    if (to > from) out = writeAt(out, from, bytes.subarray(from - offset, to - offset));
  }
  return out;
}

function truncateTo(old: Buffer, length: number): Buffer {
  if (length <= old.length) return Buffer.from(old.subarray(0, length));
  return Buffer.concat([old, Buffer.alloc(length - old.length)]);
}
