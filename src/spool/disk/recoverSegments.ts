import path from 'node:path';
import type { Logger } from 'pino';
import type { SpoolFs } from './SpoolFs.ts';
import { Segment, scanSegment } from './Segment.ts';
import { listSegments, readHeader } from './segmentFile.ts';
import { FileWindow } from './FileWindow.ts';
import { decodeRecord } from './recordCodec.ts';
import { findNextRecord, decodeAt } from './Segment.ts';

/** A segment whose header could not be trusted: moved to `corrupt/`, its records lost. */
export interface UnreadableSegment {
  readonly id: number;
  readonly file: string;
  /** Records in it that still passed their CRC (their sink names are unknown). */
  readonly records: number;
  readonly reason: string;
}

export interface Recovered {
  readonly segments: Segment[];
  /** Bytes cut off the newest segment's torn tail. */
  readonly tornBytes: number;
  /** Bad regions found inside segments (each a hole readers skip and count). */
  readonly corrupt: number;
  readonly unreadable: UnreadableSegment[];
}

/**
 * Start-up: finds the segments, verifies every record (sync marker, length and CRC), and repairs what a crash, a
 * power cut or bit rot can leave behind — never crashing on a bad spool, never destroying an intact record:
 * - the newest segment's tail with no valid record after it (a record cut mid-write, or the zeros a power cut
 *   leaves) is truncated away and counted as torn bytes;
 * - bad bytes followed by valid records become a hole that readers skip and count as lost records; the segment is
 *   sealed, and moved to `corrupt/` (not deleted) once every sink has passed it;
 * - a segment whose header fails its CRC or does not parse is moved to `corrupt/` at once and its records counted;
 * - except the newest one when it holds no record and no more than a torn header: created just before the crash,
 *   it is removed (its bytes counted as torn).
 */
/** A newest segment this small with no record in it and no valid header is one a crash cut at its creation. */
const TORN_HEADER_BYTES = 4096;

export function recoverSegments(options: { fs: SpoolFs; dir: string; logger: Logger }): Recovered {
  const { fs, dir, logger } = options;
  const files = listSegments(fs, dir);
  const segments: Segment[] = [];
  const unreadable: UnreadableSegment[] = [];
  let tornBytes = 0;
  let corrupt = 0;
  files.forEach(({ id, file }, i) => {
    const newest = i === files.length - 1;
    const fd = fs.openSync(file, 'r+');
    try {
      const size = fs.fstatSync(fd).size;
      const head = readHeader(fs, fd);
      if (typeof head === 'string') {
        const records = countRecords(fs, fd, size);
        if (newest && records === 0 && size <= TORN_HEADER_BYTES) {
          // Created just before a power cut: the directory entry was synced, the header not yet (it is synced with
          // the first records). Nothing was ever in it: removed and counted as torn, not as a corrupt segment
          // (found by the crash-state explorer: it was quarantined in corrupt/ and logged as corruption).
          fs.unlinkSync(file);
          tornBytes += size;
          logger.warn({ segment: file, bytes: size, reason: head }, 'spool: removed the newest segment, whose header a crash cut short');
          return;
        }
        unreadable.push({ id, file, records, reason: head });
        quarantine(fs, dir, file);
        logger.error(
          { segment: file, reason: head, records },
          'unreadable spool segment header: segment moved to corrupt/, its records counted lost',
        );
        return;
      }
      const segment = new Segment({
        id,
        file,
        sinks: head.header.sinks,
        dataStart: head.dataStart,
        sealed: !newest,
        version: head.version,
      });
      const scan = scanSegment(fs, fd, head.dataStart, size, head.header.sinks.length, head.version);
      segment.apply(scan);
      corrupt += scan.holes.length;
      for (const h of scan.holes) {
        logger.error(
          { segment: file, offset: h.start, skippedBytes: h.end - h.start, records: h.records, reason: h.reason },
          'spool: corrupt record skipped, reading goes on at the next good one',
        );
      }
      if (scan.badTail !== undefined) {
        if (newest) {
          tornBytes += size - scan.validEnd;
          fs.ftruncateSync(fd, scan.validEnd);
          logger.warn(
            { segment: file, cutBytes: size - scan.validEnd, reason: scan.badTail },
            'spool: cut a torn record off the newest segment',
          );
        } else {
          corrupt++;
          segment.addHole({ start: scan.validEnd, end: size, records: 1, reason: scan.badTail });
          segment.validEnd = size;
          logger.error(
            { segment: file, offset: scan.validEnd, skippedBytes: size - scan.validEnd, reason: scan.badTail },
            'spool: corrupt tail of a sealed segment skipped',
          );
        }
      }
      // Appends never go on in a damaged or old-format file: it is sealed and set aside once passed.
      if (segment.damaged || segment.version !== 2) segment.sealed = true;
      segments.push(segment);
    } finally {
      fs.closeSync(fd);
    }
  });
  return { segments, tornBytes, corrupt, unreadable };
}

/** Records that still pass their CRC in a segment whose header is lost: found by their sync markers. */
function countRecords(fs: SpoolFs, fd: number, size: number): number {
  const w = new FileWindow(fs, fd, size);
  let n = 0;
  for (let at = findNextRecord(w, -1, size, 2).at; at !== undefined; ) {
    const { r, i } = decodeAt(w, at, size, decodeRecord);
    if (r.kind !== 'record') {
      at = findNextRecord(w, at, size, 2).at;
      continue;
    }
    n++;
    at += r.next - i;
    if (at >= size) break;
  }
  return n;
}

export function quarantine(fs: SpoolFs, dir: string, file: string): void {
  const target = path.join(path.dirname(dir), 'corrupt');
  fs.mkdirSync(target, { recursive: true });
  fs.renameSync(file, path.join(target, path.basename(file)));
}
