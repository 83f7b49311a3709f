import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { Segment, scanSegment } from './Segment.ts';
import { listSegments, readHeader } from './segmentFile.ts';

export interface Recovered {
  readonly segments: Segment[];
  /** Bytes cut off the newest segment's torn tail. */
  readonly tornBytes: number;
  /** Segments (or segment tails) set aside because a record failed its CRC or the header was unreadable. */
  readonly corrupt: number;
}

/**
 * Start-up: finds the segments, verifies every record (length and CRC), and repairs what a crash or power cut
 * can leave behind — never crashing on a bad spool:
 * - the newest segment's torn tail (a record cut mid-write) is truncated away and counted;
 * - a corrupt record inside a segment ends that segment for the readers (the rest is skipped and counted);
 * - a segment whose header is unreadable is moved to `corrupt/` for an operator to inspect, and counted.
 */
export function recoverSegments(options: { dir: string; logger: Logger }): Recovered {
  const { dir, logger } = options;
  const files = listSegments(dir);
  const segments: Segment[] = [];
  let tornBytes = 0;
  let corrupt = 0;
  files.forEach(({ id, file }, i) => {
    const newest = i === files.length - 1;
    const fd = fs.openSync(file, 'r+');
    try {
      const size = fs.fstatSync(fd).size;
      const head = readHeader(fd);
      if (typeof head === 'string') {
        corrupt++;
        quarantine(dir, file);
        logger.error({ segment: file, reason: head }, 'unreadable spool segment moved aside');
        return;
      }
      const segment = new Segment({ id, file, sinks: head.header.sinks, dataStart: head.dataStart, sealed: !newest });
      const scan = scanSegment(fd, head.dataStart, size, head.header.sinks.length);
      segment.apply(scan);
      if (scan.validEnd < size) {
        if (newest && scan.stoppedBy === 'partial') {
          tornBytes += size - scan.validEnd;
          fs.ftruncateSync(fd, scan.validEnd);
          logger.warn({ segment: file, cutBytes: size - scan.validEnd }, 'spool: cut a torn record off the newest segment');
        } else {
          corrupt++;
          if (newest) fs.ftruncateSync(fd, scan.validEnd);
          logger.error(
            { segment: file, offset: scan.validEnd, skippedBytes: size - scan.validEnd, reason: scan.stoppedBy },
            'spool: corrupt record, the rest of the segment is skipped',
          );
        }
      }
      segments.push(segment);
    } finally {
      fs.closeSync(fd);
    }
  });
  return { segments, tornBytes, corrupt };
}

function quarantine(dir: string, file: string): void {
  const target = path.join(path.dirname(dir), 'corrupt');
  fs.mkdirSync(target, { recursive: true });
  fs.renameSync(file, path.join(target, path.basename(file)));
}
