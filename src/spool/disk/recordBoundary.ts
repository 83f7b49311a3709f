import { FileWindow } from './FileWindow.ts';
import { decodeAt, findNextRecord, scanSegment, type Hole, type Segment } from './Segment.ts';
import type { SpoolFs } from './SpoolFs.ts';

/**
 * Where a checkpoint may resume in `segment`: `offset` itself when a record starts there (or the end of the data),
 * else the last record boundary before it. A checkpoint inside a record means re-sending a little, never skipping.
 */
export function recordBoundaryAtOrBefore(fs: SpoolFs, segment: Segment, offset: number): number {
  if (offset <= segment.dataStart) return segment.dataStart;
  if (offset >= segment.validEnd) return offset;
  const fd = fs.openSync(segment.file, 'r');
  try {
    const w = new FileWindow(fs, fd, segment.validEnd, 64 * 1024);
    if (decodeAt(w, offset, segment.validEnd, segment.decode).r.kind === 'record' || segment.holeAt(offset)?.start === offset)
      return offset;
    return scanSegment(fs, fd, segment.dataStart, offset, segment.sinks.length, segment.version).validEnd;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The bad region that starts at `offset` (a record that failed its checks while being read): up to the next
 * record that passes its marker and CRC, or the end of the valid data. An unreadable file makes the rest the hole.
 */
export function findHole(fs: SpoolFs, segment: Segment, offset: number, reason: string): Hole {
  let hole: Hole = { start: offset, end: segment.validEnd, records: 1, reason };
  try {
    const fd = fs.openSync(segment.file, 'r');
    try {
      const next = findNextRecord(new FileWindow(fs, fd, segment.validEnd), offset, segment.validEnd, segment.version);
      if (next.at !== undefined && next.at > offset) hole = { start: offset, end: next.at, records: 1 + next.failed, reason };
      else hole = { ...hole, records: 1 + next.failed };
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // unreadable now: the rest of the segment is the hole
  }
  return hole;
}
