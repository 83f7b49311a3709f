import type { SpoolFs } from './SpoolFs.ts';
import { FileWindow } from './FileWindow.ts';
import { decodeRecord, decodeRecordV1, FRAME_BYTES, SYNC_BYTES, type DecodeResult, type RecordDecoder } from './recordCodec.ts';

/** Bytes of a segment that hold no valid record: skipped by every reader, counted as lost records. */
export interface Hole {
  readonly start: number;
  readonly end: number;
  /** Records lost in it: the bad one plus every other sync marker in it that failed its check. */
  readonly records: number;
  readonly reason: string;
}

/** What a scan found between two offsets of a segment. */
export interface ScanResult {
  /** Offset just past the last valid record (or `from`). */
  readonly validEnd: number;
  readonly records: number;
  /** Per header sink index: points and record bytes addressed to that sink. */
  readonly points: number[];
  readonly bytes: number[];
  readonly firstAt: number | undefined;
  readonly lastAt: number | undefined;
  /** Bad bytes followed by valid records. */
  readonly holes: Hole[];
  /** Why nothing valid follows `validEnd` although the scan did not reach `end`: a torn tail or garbage. */
  readonly badTail: string | undefined;
}

/**
 * One segment file's metadata. Per-sink counters let backlog figures be known without reading the data;
 * they are kept up to date by appends, and found by one scan at start-up.
 */
export class Segment {
  readonly id: number;
  readonly file: string;
  readonly sinks: readonly string[];
  readonly dataStart: number;
  /** 1: written before the sync marker; 2: current. */
  readonly version: 1 | 2;
  readonly decode: RecordDecoder;
  /** Readers stop here: the end of the valid data. */
  validEnd: number;
  sealed: boolean;
  records = 0;
  readonly points: number[];
  readonly bytes: number[];
  firstAt: number | undefined;
  lastAt: number | undefined;
  /** Known bad regions, in file order. */
  readonly holes: Hole[] = [];

  constructor(options: { id: number; file: string; sinks: readonly string[]; dataStart: number; sealed: boolean; version?: 1 | 2 }) {
    this.id = options.id;
    this.file = options.file;
    this.sinks = options.sinks;
    this.dataStart = options.dataStart;
    this.validEnd = options.dataStart;
    this.sealed = options.sealed;
    this.version = options.version ?? 2;
    this.decode = this.version === 1 ? decodeRecordV1 : decodeRecord;
    this.points = options.sinks.map(() => 0);
    this.bytes = options.sinks.map(() => 0);
  }

  /** Corruption was found in it: when passed it is moved to `corrupt/`, not deleted. */
  get damaged(): boolean {
    return this.holes.length > 0;
  }

  /** The bit of sink `name` in this segment's records, 0 when the segment predates that sink. */
  bitOf(name: string): number {
    const i = this.sinks.indexOf(name);
    return i < 0 ? 0 : 1 << i;
  }

  indexOf(name: string): number {
    return this.sinks.indexOf(name);
  }

  holeAt(offset: number): Hole | undefined {
    for (const h of this.holes) if (offset >= h.start && offset < h.end) return h;
    return undefined;
  }

  addHole(hole: Hole): void {
    this.holes.push(hole);
    this.holes.sort((a, b) => a.start - b.start);
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

  /** Forgets every record (a fully delivered segment truncated to its header to free the disk). */
  clear(): void {
    this.records = 0;
    this.validEnd = this.dataStart;
    this.points.fill(0);
    this.bytes.fill(0);
    this.firstAt = undefined;
    this.lastAt = undefined;
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
    for (const h of scan.holes) this.addHole(h);
  }

  /** Bytes on disk. */
  get size(): number {
    return this.validEnd;
  }
}

/** Decodes the record at `pos` through `w`, reading more when it is longer than what the window holds. */
export function decodeAt(w: FileWindow, pos: number, end: number, decode: RecordDecoder): { r: DecodeResult; i: number } {
  let i = w.at(pos, FRAME_BYTES);
  let r = decode(w.buf, i, w.length);
  if (r.kind === 'partial' && pos + r.needed <= end) {
    i = w.at(pos, r.needed);
    r = decode(w.buf, i, w.length);
  }
  return { r, i };
}

/**
 * After a bad record at `from`: the offset of the next sync marker (before `end`) whose record passes its CRC, and
 * how many other markers failed on the way (each a lost record). Format 1 has no marker: nothing is found.
 */
export function findNextRecord(w: FileWindow, from: number, end: number, version: 1 | 2): { at: number | undefined; failed: number } {
  let failed = 0;
  if (version === 1) return { at: undefined, failed };
  let pos = from + 1;
  while (pos + FRAME_BYTES <= end) {
    const i = w.at(pos, end - pos);
    const k = w.buf.subarray(0, w.length).indexOf(SYNC_BYTES, i);
    if (k < 0) {
      if (w.start + w.length >= end) break;
      pos = w.start + w.length - (SYNC_BYTES.length - 1);
      continue;
    }
    const at = w.start + k;
    if (decodeAt(w, at, end, decodeRecord).r.kind === 'record') return { at, failed };
    failed++;
    pos = at + 1;
  }
  return { at: undefined, failed };
}

/** Reads records from `from` to `end` of an open segment file, verifying each; resynchronises after bad ones. */
export function scanSegment(fs: SpoolFs, fd: number, from: number, end: number, sinkCount: number, version: 1 | 2 = 2): ScanResult {
  const points = new Array<number>(sinkCount).fill(0);
  const bytes = new Array<number>(sinkCount).fill(0);
  const holes: Hole[] = [];
  const decode = version === 1 ? decodeRecordV1 : decodeRecord;
  const w = new FileWindow(fs, fd, end);
  let records = 0;
  let firstAt: number | undefined;
  let lastAt: number | undefined;
  let pos = from;
  let validEnd = from;
  let badTail: string | undefined;
  while (pos < end) {
    const { r, i } = decodeAt(w, pos, end, decode);
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
      pos += size;
      validEnd = pos;
      continue;
    }
    const reason = r.kind === 'corrupt' ? r.reason : 'record runs past the end of the segment';
    const next = findNextRecord(w, pos, end, version);
    if (next.at === undefined) {
      badTail = r.kind === 'partial' ? 'partial' : reason;
      break;
    }
    holes.push({ start: pos, end: next.at, records: 1 + next.failed, reason });
    pos = next.at;
    validEnd = pos;
  }
  return { validEnd, records, points, bytes, firstAt, lastAt, holes, badTail };
}
