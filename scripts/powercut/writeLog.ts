/**
 * Reads the write log of qemu's `blklogwrites` driver (the dm-log-writes format: a superblock in sector 0, then
 * per request one entry sector followed by its data sectors) and replays it onto the disk image as it was before
 * the boot, up to the last completed flush, optionally plus a random subset of the later writes: a disk whose
 * volatile cache was lost at the power cut (what a plain SIGKILL cannot show, as the host's page cache keeps
 * everything qemu wrote).
 */
import fs from 'node:fs';

export const LOG_FLUSH = 1;
export const LOG_FUA = 2;
export const LOG_DISCARD = 4;
export const LOG_MARK = 8;
const LOG_MAGIC = 0x6a736677736872n;
const ENTRY_BYTES = 32;

export interface LogEntry {
  /** Disk offset and length in bytes. */
  offset: number;
  bytes: number;
  flags: number;
  /** Where the entry's data starts in the log file. */
  dataAt: number;
}

export interface WriteLog {
  sectorSize: number;
  /** Entries counted by the superblock (it is rewritten at each flush). */
  superEntries: number;
  entries: LogEntry[];
}

export function readWriteLog(file: string): WriteLog {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(28);
    if (size < 512 || fs.readSync(fd, head, 0, 28, 0) !== 28 || head.readBigUInt64LE(0) !== LOG_MAGIC) {
      // No flush ever reached the log (the superblock is written at the first one): nothing survives.
      return { sectorSize: 512, superEntries: 0, entries: [] };
    }
    const sectorSize = head.readUInt32LE(24);
    const superEntries = Number(head.readBigUInt64LE(16));
    const entries: LogEntry[] = [];
    const e = Buffer.alloc(ENTRY_BYTES);
    let pos = sectorSize;
    // Entries written after the last superblock update are read too, up to the first one that is not whole.
    while (pos + sectorSize <= size && fs.readSync(fd, e, 0, ENTRY_BYTES, pos) === ENTRY_BYTES) {
      const sector = e.readBigUInt64LE(0);
      const nrSectors = Number(e.readBigUInt64LE(8));
      const flags = Number(e.readBigUInt64LE(16));
      if ((flags & ~(LOG_FLUSH | LOG_FUA | LOG_DISCARD | LOG_MARK)) !== 0) break;
      if (flags === 0 && nrSectors === 0) break; // zero-filled: the end of what was logged
      const dataSectors = flags & LOG_DISCARD ? 0 : nrSectors;
      const next = pos + sectorSize * (1 + dataSectors);
      if (next > size) break;
      entries.push({ offset: Number(sector) * sectorSize, bytes: nrSectors * sectorSize, flags, dataAt: pos + sectorSize });
      pos = next;
    }
    return { sectorSize, superEntries, entries };
  } finally {
    fs.closeSync(fd);
  }
}

export interface ReplayResult {
  entries: number;
  flushes: number;
  /** Index of the last flush entry (-1: none). */
  lastFlush: number;
  /** Writes after the last flush that were applied / dropped, and their bytes. */
  laterApplied: number;
  laterDropped: number;
  droppedBytes: number;
}

/**
 * Applies the log onto `image` (the disk as it was when the log started): every write up to the last flush in
 * order, and each later write with probability `laterWriteProbability` (in order; `random` in [0, 1)).
 * Discards are not applied (their content is undefined; the old data stays).
 */
export function replayWriteLog(
  log: WriteLog,
  logFile: string,
  image: string,
  laterWriteProbability: number,
  random: () => number,
): ReplayResult {
  let lastFlush = -1;
  let flushes = 0;
  log.entries.forEach((entry, i) => {
    if (entry.flags & LOG_FLUSH) {
      lastFlush = i;
      flushes++;
    }
  });
  const result: ReplayResult = { entries: log.entries.length, flushes, lastFlush, laterApplied: 0, laterDropped: 0, droppedBytes: 0 };
  const src = fs.openSync(logFile, 'r');
  const dst = fs.openSync(image, 'r+');
  try {
    log.entries.forEach((entry, i) => {
      if (entry.bytes === 0 || entry.flags & LOG_DISCARD) return;
      if (i > lastFlush) {
        if (random() >= laterWriteProbability) {
          result.laterDropped++;
          result.droppedBytes += entry.bytes;
          return;
        }
        result.laterApplied++;
      }
      const data = Buffer.alloc(entry.bytes);
      fs.readSync(src, data, 0, entry.bytes, entry.dataAt);
      fs.writeSync(dst, data, 0, entry.bytes, entry.offset);
    });
  } finally {
    fs.closeSync(src);
    fs.closeSync(dst);
  }
  return result;
}
