import type { SpoolFs } from './SpoolFs.ts';
import type { Batch } from '../Batch.ts';
import type { Backlog, ReadLimits, SpoolCursor } from '../Spool.ts';
import { BatchTrigger, type ReadyLimits } from '../BatchTrigger.ts';
import { BatchCollector } from '../BatchCollector.ts';
import type { Position } from './CursorStore.ts';
import { FRAME_BYTES } from './recordCodec.ts';
import type { RecentRecords } from './RecentRecords.ts';
import type { Hole, Segment } from './Segment.ts';

/** What a cursor needs from the DiskSpool that owns it. */
export interface SegmentLog {
  /** The spool's identity (made once, when the spool directory is created). */
  readonly origin: string;
  /** The first segment whose id is ≥ `id`. */
  segmentAtOrAfter(id: number): Segment | undefined;
  /** A cursor committed a batch: segments every sink has passed may go. */
  onCommitted(cursor: DiskCursor): void;
  /**
   * The record at `offset` is bad: the hole every reader skips, up to the next record that passes its checks
   * (found once, then known to every cursor).
   */
  holeAt(segment: Segment, offset: number, reason: string): Hole;
  /** Writes records appended but not yet written (a burst in progress), so a read sees every appended record. */
  flushPending(): boolean;
  /** What was written last, still in memory. */
  readonly recent: RecentRecords;
  readonly fs: SpoolFs;
}

interface Found {
  readonly segment: Segment;
  /** File offsets of the record and of the next one. */
  readonly start: number;
  readonly next: number;
  readonly sinks: number;
  readonly points: number;
  readonly receivedAt: number;
  /** Buffer offsets of the line protocol text. */
  readonly textStart: number;
  readonly textEnd: number;
}

type NextAt = { readonly kind: 'unknown' } | { readonly kind: 'none' } | { readonly kind: 'at'; readonly at: number };
const UNKNOWN: NextAt = { kind: 'unknown' };
const NONE: NextAt = { kind: 'none' };

const READ_CHUNK = 256 * 1024;
/** Batch.end packs (segment, offset): offsets stay below 2^32, segment ids below 2^21. */
const OFFSET_SPAN = 2 ** 32;

/**
 * One sink's reader of the disk spool: reads records in order from its own position, keeps running totals of
 * what it has not read (for batch triggers and backlog figures), and holds its committed position, which the
 * spool checkpoints. Reads go through a reusable buffer; live traffic is read back from the page cache.
 */
export class DiskCursor implements SpoolCursor {
  readonly name: string;
  /** This sink's bit in records written by this process (whose segments list the sinks as configured now). */
  readonly #bit: number;
  readonly #log: SegmentLog;
  readonly #trigger: BatchTrigger;
  readPos: Position;
  committed: Position;
  #pendingPoints = 0;
  #pendingBytes = 0;
  /** receivedAt of the next unread record for this sink: known, unknown (peek at the file to learn), or none waiting. */
  #nextAt: NextAt = UNKNOWN;
  #inflight: Batch | undefined;
  #dropped = 0;
  /** Records this sink's reader had to skip because they failed their checks (corruption on disk). */
  #lost = 0;
  /** Where the last counted hole ended: a read that found nothing after it still moves past it (counted once). */
  #holeEnd: Position | undefined;
  #buf = Buffer.allocUnsafe(READ_CHUNK);
  #bufSegment = -1;
  #bufStart = 0;
  #bufLength = 0;
  #fd = -1;
  #fdSegment = -1;

  constructor(options: { name: string; bit: number; log: SegmentLog; now: () => number; start: Position }) {
    this.name = options.name;
    this.#bit = options.bit;
    this.#log = options.log;
    this.readPos = options.start;
    this.committed = options.start;
    this.#trigger = new BatchTrigger(
      { pendingPoints: () => this.#pendingPoints, pendingBytes: () => this.#pendingBytes, oldestAt: () => this.#oldestAt() },
      options.now,
    );
  }

  /** Start-up: what lies between the checkpoint and the end of the spool for this sink. */
  setPending(points: number, bytes: number): void {
    this.#pendingPoints = points;
    this.#pendingBytes = bytes;
    this.#nextAt = points > 0 ? UNKNOWN : NONE;
  }

  /** Start-up: removes from the pending totals what lies before the read position in its segment. */
  discountPassed(): void {
    const segment = this.#log.segmentAtOrAfter(this.readPos.segment);
    if (segment === undefined || segment.id !== this.readPos.segment || this.readPos.offset <= segment.dataStart) return;
    const bit = segment.bitOf(this.name);
    let points = 0;
    let bytes = 0;
    for (let f = this.#next(segment.id, segment.dataStart); f !== undefined && f.segment === segment && f.start < this.readPos.offset; f = this.#next(segment.id, f.next)) {
      if ((f.sinks & bit) !== 0) {
        points += f.points;
        bytes += f.next - f.start;
      }
    }
    this.setPending(Math.max(0, this.#pendingPoints - points), Math.max(0, this.#pendingBytes - bytes));
  }

  backlog(): Backlog {
    const inflight = this.#inflight;
    return {
      points: this.#pendingPoints + (inflight?.points ?? 0),
      bytes: this.#pendingBytes + (inflight?.bytes ?? 0),
      oldestAt: inflight?.firstReceivedAt ?? this.#oldestAt(),
    };
  }

  ready(limits: ReadyLimits, signal: AbortSignal): Promise<void> {
    return this.#trigger.wait(limits, signal);
  }

  flushNow(): void {
    this.#trigger.wake();
  }

  read(limits: ReadLimits): Batch | undefined {
    this.#log.flushPending();
    const collected = new BatchCollector(Math.min(this.#pendingBytes, limits.maxBytes));
    let segment = this.readPos.segment;
    let offset = this.readPos.offset;
    // Keeping up with live traffic: the records are still in memory (no read, no CRC).
    const recent = this.#log.recent;
    let n = recent.find(segment, offset);
    if (n >= 0) {
      const bit = this.#bit;
      for (; n < recent.count && collected.hasRoom(limits); n++) {
        segment = recent.segmentOf(n);
        const start = recent.startOf(n);
        offset = recent.nextOf(n);
        if ((recent.sinksOf(n) & bit) !== 0) {
          collected.addBytes(recent.ring, recent.textStartOf(n), recent.textEndOf(n), segment * OFFSET_SPAN + start, recent.pointsOf(n), offset - start, recent.receivedAtOf(n));
        }
      }
    }
    while (n < 0 && collected.hasRoom(limits)) {
      this.#holeEnd = undefined;
      const f = this.#next(segment, offset, true);
      if (f === undefined) {
        const h = this.#holeEnd as Position | undefined;
        if (h !== undefined && (h.segment > segment || (h.segment === segment && h.offset > offset))) ({ segment, offset } = h);
        break;
      }
      segment = f.segment.id;
      offset = f.next;
      if ((f.sinks & f.segment.bitOf(this.name)) === 0) continue;
      collected.addBytes(this.#buf, f.textStart, f.textEnd, f.segment.id * OFFSET_SPAN + f.start, f.points, f.next - f.start, f.receivedAt);
    }
    this.readPos = { segment, offset };
    const batch = collected.build(this.#log.origin, segment * OFFSET_SPAN + offset);
    if (batch === undefined) return undefined;
    this.#pendingPoints = Math.max(0, this.#pendingPoints - batch.points);
    this.#pendingBytes = Math.max(0, this.#pendingBytes - batch.bytes);
    this.#nextAt = this.#pendingPoints > 0 ? UNKNOWN : NONE;
    this.#inflight = batch;
    return batch;
  }

  commit(batch: Batch): void {
    if (this.#inflight === batch) this.#inflight = undefined;
    const segment = Math.floor(batch.end / OFFSET_SPAN);
    const offset = batch.end - segment * OFFSET_SPAN;
    // A drop may already have moved the cursor past this batch's segment.
    if (segment > this.committed.segment || (segment === this.committed.segment && offset > this.committed.offset)) {
      this.committed = { segment, offset };
    }
    this.#log.onCommitted(this);
  }

  dropped(): number {
    return this.#dropped;
  }

  /** Records lost to corruption that this sink's reader skipped since start. */
  lost(): number {
    return this.#lost;
  }

  /** Points read or not, not yet committed: 0 when everything this sink was given is delivered. */
  waiting(): number {
    return this.#pendingPoints + (this.#inflight?.points ?? 0);
  }

  close(): void {
    this.#closeFd();
  }

  // --- called by DiskSpool ----------------------------------------------------------------------

  onAppend(points: number, size: number, receivedAt: number): void {
    if (this.#pendingPoints === 0 && this.#nextAt.kind === 'none') this.#nextAt = { kind: 'at', at: receivedAt };
    this.#pendingPoints += points;
    this.#pendingBytes += size;
    this.#trigger.onAppend();
  }

  /** Appended records that could not be written were discarded: they are no longer waiting for this sink. */
  onUnwritten(points: number, size: number): void {
    this.#pendingPoints = Math.max(0, this.#pendingPoints - points);
    this.#pendingBytes = Math.max(0, this.#pendingBytes - size);
    this.#nextAt = this.#pendingPoints > 0 ? UNKNOWN : NONE;
  }

  /**
   * `segment` is about to be deleted by the overflow policy: count what this sink had not committed of it as
   * dropped and move past it. That includes the part of a batch in flight: its records leave the disk, so a
   * restart before the sink takes it would lose them (if the sink does take it later, those points are counted
   * both written and dropped: over-counted, never lost silently).
   */
  onDropped(segment: Segment): void {
    const idx = segment.indexOf(this.name);
    const c = this.committed;
    if (idx >= 0 && c.segment <= segment.id) {
      const from = c.segment < segment.id ? segment.dataStart : Math.max(c.offset, segment.dataStart);
      // Read position inside this segment: records before it are in flight, the rest still pending.
      const readAt = this.readPos.segment < segment.id ? segment.dataStart : this.readPos.segment > segment.id ? Infinity : this.readPos.offset;
      let pendingPoints = 0;
      let pendingBytes = 0;
      let inflightPoints = 0;
      if (from <= segment.dataStart && readAt <= segment.dataStart) {
        pendingPoints = segment.points[idx]!;
        pendingBytes = segment.bytes[idx]!;
      } else {
        for (let f = this.#next(segment.id, from); f !== undefined && f.segment === segment; f = this.#next(segment.id, f.next)) {
          if ((f.sinks & (1 << idx)) === 0) continue;
          if (f.start < readAt) inflightPoints += f.points;
          else {
            pendingPoints += f.points;
            pendingBytes += f.next - f.start;
          }
        }
      }
      this.#dropped += pendingPoints + inflightPoints;
      this.#pendingPoints = Math.max(0, this.#pendingPoints - pendingPoints);
      this.#pendingBytes = Math.max(0, this.#pendingBytes - pendingBytes);
    }
    if (this.readPos.segment <= segment.id) {
      this.readPos = { segment: segment.id + 1, offset: 0 };
      this.#nextAt = this.#pendingPoints > 0 ? UNKNOWN : NONE;
    }
    if (this.committed.segment <= segment.id) this.committed = { segment: segment.id + 1, offset: 0 };
    if (this.#fdSegment === segment.id) this.#closeFd();
    if (this.#bufSegment === segment.id) this.#bufSegment = -1;
  }

  /** True when this cursor has committed everything in `segment`. */
  hasPassed(segment: Segment): boolean {
    // Nothing waiting and nothing in flight: whatever the segment holds is not for this sink any more.
    if (this.#inflight === undefined && this.#pendingPoints === 0) return true;
    const c = this.committed;
    return c.segment > segment.id || (segment.sealed && c.segment === segment.id && c.offset >= segment.validEnd);
  }

  // --- reading ----------------------------------------------------------------------------------

  /** The record at or after (segment, offset), crossing into later segments; undefined at the writer's end. */
  #next(segmentId: number, offset: number, countLost = false): Found | undefined {
    for (;;) {
      const segment = this.#log.segmentAtOrAfter(segmentId);
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
        const hole = this.#log.holeAt(segment, offset, r.kind === 'corrupt' ? r.reason : 'record runs past the end of the segment');
        if (countLost) {
          this.#lost += hole.records;
          this.#holeEnd = { segment: segment.id, offset: hole.end };
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

  /**
   * Makes the buffer hold at least `need` bytes from `offset` (fewer at the end of the valid data).
   * Returns false when the segment file no longer exists.
   */
  #fill(segment: Segment, offset: number, need: number, force = false): boolean {
    const end = segment.validEnd;
    if (!force && this.#bufSegment === segment.id && offset >= this.#bufStart && offset + Math.min(need, end - offset) <= this.#bufStart + this.#bufLength) {
      return true;
    }
    if (need > this.#buf.length) this.#buf = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2));
    if (this.#fdSegment !== segment.id) {
      this.#closeFd();
      try {
        this.#fd = this.#log.fs.openSync(segment.file, 'r');
      } catch {
        return false;
      }
      this.#fdSegment = segment.id;
    }
    const length = Math.min(this.#buf.length, end - offset);
    let got = 0;
    while (got < length) {
      const n = this.#log.fs.readSync(this.#fd, this.#buf, got, length - got, offset + got);
      if (n <= 0) break;
      got += n;
    }
    this.#bufSegment = segment.id;
    this.#bufStart = offset;
    this.#bufLength = got;
    return true;
  }

  #oldestAt(): number | undefined {
    const known = this.#nextAt;
    if (known.kind !== 'unknown') return known.kind === 'at' ? known.at : undefined;
    this.#log.flushPending();
    // Unknown after a read that left a backlog: peek at the next record of this sink.
    let segment = this.readPos.segment;
    let offset = this.readPos.offset;
    for (let f = this.#next(segment, offset); f !== undefined; f = this.#next(segment, offset)) {
      if ((f.sinks & f.segment.bitOf(this.name)) !== 0) {
        this.#nextAt = { kind: 'at', at: f.receivedAt };
        return f.receivedAt;
      }
      segment = f.segment.id;
      offset = f.next;
    }
    this.#nextAt = NONE;
    return undefined;
  }

  #closeFd(): void {
    if (this.#fd >= 0) this.#log.fs.closeSync(this.#fd);
    this.#fd = -1;
    this.#fdSegment = -1;
    this.#bufSegment = -1;
  }
}
