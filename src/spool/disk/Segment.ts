import fs from 'node:fs';
import { decodeRecord } from './recordCodec.ts';

/** What a scan found between two offsets of a segment. */
export interface ScanResult {
  /** Offset just past the last valid record. */
  readonly validEnd: number;
  readonly records: number;
  /** Per header sink index: points and record bytes addressed to that sink. */
  readonly points: number[];
  readonly bytes: number[];
  readonly firstAt: number | undefined;
  readonly lastAt: number | undefined;
  /** Why the scan stopped before `end`: a torn tail ('partial') or garbage ('corrupt: …'). */
  readonly stoppedBy: string | undefined;
}

const SCAN_CHUNK = 1 << 20;

/**
 * One segment file's metadata. Per-sink counters let backlog figures be known without reading the data;
 * they are kept up to date by appends, and found by one scan at start-up (or read from the `.idx` sidecar
 * written when a segment is sealed).
 */
export class Segment {
  readonly id: number;
  readonly file: string;
  readonly sinks: readonly string[];
  readonly dataStart: number;
  /** Readers stop here: the end of the valid data (the file size, unless a corrupt record was found). */
  validEnd: number;
  sealed: boolean;
  records = 0;
  readonly points: number[];
  readonly bytes: number[];
  firstAt: number | undefined;
  lastAt: number | undefined;

  constructor(options: { id: number; file: string; sinks: readonly string[]; dataStart: number; sealed: boolean }) {
    this.id = options.id;
    this.file = options.file;
    this.sinks = options.sinks;
    this.dataStart = options.dataStart;
    this.validEnd = options.dataStart;
    this.sealed = options.sealed;
    this.points = options.sinks.map(() => 0);
    this.bytes = options.sinks.map(() => 0);
  }

  /** The bit of sink `name` in this segment's records, 0 when the segment predates that sink. */
  bitOf(name: string): number {
    const i = this.sinks.indexOf(name);
    return i < 0 ? 0 : 1 << i;
  }

  indexOf(name: string): number {
    return this.sinks.indexOf(name);
  }

  /** Adds one appended record to the counters. */
  add(sinks: number, points: number, size: number, receivedAt: number): void {
    this.records++;
    this.validEnd += size;
    this.firstAt ??= receivedAt;
    this.lastAt = receivedAt;
    for (let i = 0; i < this.points.length; i++) {
      if ((sinks & (1 << i)) !== 0) {
        this.points[i]! += points;
        this.bytes[i]! += size;
      }
    }
  }

  apply(scan: ScanResult): void {
    this.validEnd = scan.validEnd;
    this.records = scan.records;
    for (let i = 0; i < this.points.length; i++) {
      this.points[i] = scan.points[i] ?? 0;
      this.bytes[i] = scan.bytes[i] ?? 0;
    }
    this.firstAt = scan.firstAt;
    this.lastAt = scan.lastAt;
  }

  /** Bytes on disk. */
  get size(): number {
    return this.validEnd;
  }
}

/** Reads records from `from` to `end` of an open segment file, verifying each CRC. */
export function scanSegment(fd: number, from: number, end: number, sinkCount: number): ScanResult {
  const points = new Array<number>(sinkCount).fill(0);
  const bytes = new Array<number>(sinkCount).fill(0);
  let records = 0;
  let firstAt: number | undefined;
  let lastAt: number | undefined;
  let buf = Buffer.allocUnsafe(SCAN_CHUNK);
  let pos = from;
  let stoppedBy: string | undefined;
  outer: while (pos < end) {
    const want = Math.min(buf.length, end - pos);
    const got = fs.readSync(fd, buf, 0, want, pos);
    if (got <= 0) {
      stoppedBy = 'partial';
      break;
    }
    let i = 0;
    while (i < got) {
      const r = decodeRecord(buf, i, got);
      if (r.kind === 'record') {
        records++;
        firstAt ??= r.receivedAt;
        lastAt = r.receivedAt;
        const size = r.next - i;
        for (let s = 0; s < sinkCount; s++) {
          if ((r.sinks & (1 << s)) !== 0) {
            points[s]! += r.points;
            bytes[s]! += size;
          }
        }
        i = r.next;
        continue;
      }
      if (r.kind === 'corrupt') {
        stoppedBy = `corrupt: ${r.reason}`;
        pos += i;
        break outer;
      }
      // partial: the record continues past this chunk (or past the end of the file)
      if (pos + i + r.needed > end) {
        stoppedBy = 'partial';
        pos += i;
        break outer;
      }
      if (i === 0) buf = Buffer.allocUnsafe(Math.max(buf.length * 2, r.needed));
      break;
    }
    pos += i;
  }
  return { validEnd: Math.min(pos, end), records, points, bytes, firstAt, lastAt, stoppedBy };
}
