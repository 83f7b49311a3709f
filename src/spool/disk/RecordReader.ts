import type { Position } from './CursorStore.ts';
import { FRAME_BYTES } from './recordCodec.ts';
import type { Hole, Segment } from './Segment.ts';
import type { SpoolFs } from './SpoolFs.ts';

/** What reading records needs from the ledger: the segments, their shared read descriptors, the known holes. */
export interface RecordSource {
  readonly fs: SpoolFs;
  /** The first segment whose id is ≥ `id`. */
  segmentAtOrAfter(id: number): Segment | undefined;
  /** A descriptor open for reading `segment` (shared, positional reads); -1 when the file is gone. */
  readFd(segment: Segment): number;
  /** The bad region starting at `offset`: found once, then known to every reader. */
  holeAt(segment: Segment, offset: number, reason: string): Hole;
}

/** A record found in a segment file. */
export interface Found {
  readonly segment: Segment;
  /** File offsets of the record and of the next one. */
  readonly start: number;
  readonly next: number;
  readonly sinks: number;
  readonly points: number;
  readonly receivedAt: number;
  /** Offsets of the line protocol text in `RecordReader#buffer`. */
  readonly textStart: number;
  readonly textEnd: number;
}

/** Holes a read moved past: how many records they held and where the last one ended. */
export interface HoleTally {
  records: number;
  end: Position | undefined;
}

const READ_CHUNK = 256 * 1024;

/**
 * Reads the spool's records in file order through one reusable buffer, crossing from segment to segment and
 * skipping holes; each record is checked (sync marker, length, CRC) as it is decoded. Each sink's reader has one, and
 * the ledger one for its own accounting (drops, start-up totals).
 */
export class RecordReader {
  readonly #source: RecordSource;
  /** Allocated on the first read of a file (a reader that keeps up copies from memory and never needs it). */
  #buf = Buffer.alloc(0);
  #bufSegment = -1;
  #bufStart = 0;
  #bufLength = 0;
  /** File bytes read into the buffer since `resetBytesRead()`: what a read cost. */
  bytesRead = 0;

  constructor(source: RecordSource) {
    this.#source = source;
  }

  /** The buffer that `Found.textStart`/`textEnd` index (valid until the next call of `next`). */
  get buffer(): Buffer {
    return this.#buf;
  }

  /**
   * The record at or after (segment, offset), crossing into later segments; undefined at the writer's end.
   * Holes on the way are skipped (and tallied in `holes` when given).
   */
  next(segmentId: number, offset: number, holes?: HoleTally): Found | undefined {
    const source = this.#source;
    for (;;) {
      const segment = source.segmentAtOrAfter(segmentId);
      if (segment === undefined) return undefined;
      if (segment.id !== segmentId || offset < segment.dataStart) {
        segmentId = segment.id;
        offset = segment.dataStart;
      }
      if (offset >= segment.validEnd) {
        if (!segment.sealed) return undefined; // caught up with the writer
        segmentId = segment.id + 1;
        offset = 0;
        continue;
      }
      if (!this.#fill(segment, offset, FRAME_BYTES)) {
        segmentId = segment.id + 1; // the file is gone (deleted under us): move on
        offset = 0;
        continue;
      }
      const decode = segment.decode;
      let at = offset - this.#bufStart;
      let r = decode(this.#buf, at, this.#bufLength);
      if (r.kind === 'partial') {
        if (!this.#fill(segment, offset, r.needed, true)) {
          segmentId = segment.id + 1;
          offset = 0;
          continue;
        }
        at = offset - this.#bufStart;
        r = decode(this.#buf, at, this.#bufLength);
      }
      if (r.kind !== 'record') {
        // Skip to the next good record; what lies between is lost and counted (once, by the reading that moves on).
        const hole = source.holeAt(segment, offset, r.kind === 'corrupt' ? r.reason : 'record runs past the end of the segment');
        if (holes !== undefined) {
          holes.records += hole.records;
          holes.end = { segment: segment.id, offset: hole.end };
        }
        segmentId = segment.id;
        offset = hole.end;
        this.#bufSegment = -1;
        continue;
      }
      return {
        segment,
        start: offset,
        next: offset + (r.next - at),
        sinks: r.sinks,
        points: r.points,
        receivedAt: r.receivedAt,
        textStart: r.textStart,
        textEnd: r.textEnd,
      };
    }
  }

  /** receivedAt of the first record at or after (segment, offset) addressed to sink `name`; undefined when none is written. */
  firstFor(name: string, segmentId: number, offset: number): number | undefined {
    for (let f = this.next(segmentId, offset); f !== undefined; f = this.next(segmentId, offset)) {
      if ((f.sinks & f.segment.bitOf(name)) !== 0) return f.receivedAt;
      segmentId = f.segment.id;
      offset = f.next;
    }
    return undefined;
  }

  /** Forgets what the buffer holds (its segment was cut or removed). */
  forget(): void {
    this.#bufSegment = -1;
  }

  /**
   * Makes the buffer hold at least `need` bytes from `offset` (fewer at the end of the valid data).
   * Returns false when the segment file no longer exists.
   */
  #fill(segment: Segment, offset: number, need: number, force = false): boolean {
    const end = segment.validEnd;
    if (
      !force &&
      this.#bufSegment === segment.id &&
      offset >= this.#bufStart &&
      offset + Math.min(need, end - offset) <= this.#bufStart + this.#bufLength
    ) {
      return true;
    }
    // Up to READ_CHUNK of read-ahead (less when the file holds less), more only for a record that is larger.
    const room = Math.max(need, Math.min(READ_CHUNK, end - offset));
    if (room > this.#buf.length) this.#buf = Buffer.allocUnsafe(need > this.#buf.length ? Math.max(room, this.#buf.length * 2) : room);
    const fd = this.#source.readFd(segment);
    if (fd < 0) return false;
    const length = Math.min(this.#buf.length, end - offset);
    const fs = this.#source.fs;
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, this.#buf, got, length - got, offset + got);
      if (n <= 0) break;
      got += n;
    }
    this.bytesRead += got;
    this.#bufSegment = segment.id;
    this.#bufStart = offset;
    this.#bufLength = got;
    return true;
  }
}
