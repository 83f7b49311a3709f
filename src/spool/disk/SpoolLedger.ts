import type { Logger } from 'pino';
import type { Batch } from '../Batch.ts';
import { CursorStore, type Position } from './CursorStore.ts';
import { PendingRecords } from './PendingRecords.ts';
import { findHole } from './recordBoundary.ts';
import { RecordReader, type RecordSource } from './RecordReader.ts';
import { quarantine } from './recoverSegments.ts';
import { RecentRecords } from './RecentRecords.ts';
import { Refusal } from './Refusal.ts';
import type { Hole, Segment } from './Segment.ts';
import { NONE_WAITING, SinkMark } from './SinkMark.ts';
import type { SpoolFs } from './SpoolFs.ts';

/** Appends of one burst are gathered in `pending` and written with one write(2); a larger burst writes as it goes. */
const PENDING_BYTES = 256 * 1024;

export interface SpoolLedgerOptions {
  readonly sinks: readonly string[];
  readonly fs: SpoolFs;
  readonly logger: Logger;
  readonly now: () => number;
  readonly segmentsDir: string;
  readonly cursorsDir: string;
  readonly checkpointIntervalMs: number;
  readonly maxBytes: number;
  readonly recent: { readonly maxRecords: number; readonly maxBytes: number };
}

/** Figures the writer and the readers add to, shown in the spool's stats. */
export interface LedgerCounters {
  bytesWritten: number;
  fsyncs: number;
  tornBytesRecovered: number;
  corruptSkipped: number;
  diskFullEvents: number;
  unwrittenRecords: number;
  checkpointsRepaired: number;
}

/**
 * The only state the disk spool's writer and its readers share (after Vector's disk buffer ledger): the segments
 * and their counters, every sink's marks (read and committed positions, what waits, what was lost), the window of
 * recent records, the holes, and the wake-ups — of a reader waiting for data (its mark's trigger, woken by appends)
 * and of the writer waiting for space (the refusal, lifted when commits free enough). The writer and the readers
 * never call each other: each changes the ledger, and the ledger keeps the accounting that follows.
 *
 * Segments leave through the ledger only: deleted once every sink committed past them (on commit), or dropped by
 * the writer's overflow policy (counted per sink that had not committed them).
 */
export class SpoolLedger implements RecordSource {
  readonly fs: SpoolFs;
  readonly logger: Logger;
  readonly now: () => number;
  /** The spool's identity (made once, when the spool directory is created). */
  origin = '';
  /** Oldest first; the last one is the writer's (sealed when it could not be replaced: see the writer's roll). */
  readonly segments: Segment[] = [];
  /** One per sink slot, in bit order; a reload appends new sinks and releases removed ones (never reuses a slot). */
  readonly marks: SinkMark[];
  /** Bytes of the segments, pending records included. */
  bytes = 0;
  /** Records appended and not yet written: the writer's next write(2), and what a caught-up reader reads next. */
  readonly pending = new PendingRecords(PENDING_BYTES);
  readonly recent: RecentRecords;
  readonly refusal = new Refusal();
  readonly counters: LedgerCounters = {
    bytesWritten: 0,
    fsyncs: 0,
    tornBytesRecovered: 0,
    corruptSkipped: 0,
    diskFullEvents: 0,
    unwrittenRecords: 0,
    checkpointsRepaired: 0,
  };
  readonly store: CursorStore;
  readonly #o: SpoolLedgerOptions;
  /** One read descriptor per segment, shared by the readers (positional reads), closed before the file goes. */
  readonly #readFds = new Map<number, number>();
  /** The ledger's own reader: counts what a dropped segment held, finds a sink's oldest unread record. */
  readonly #records: RecordReader;

  constructor(options: SpoolLedgerOptions) {
    this.#o = options;
    this.fs = options.fs;
    this.logger = options.logger;
    this.now = options.now;
    this.recent = new RecentRecords(options.recent);
    this.marks = options.sinks.map((name, i) => new SinkMark(name, i, options.now));
    this.store = new CursorStore({
      dir: options.cursorsDir,
      intervalMs: options.checkpointIntervalMs,
      // A released sink keeps its last checkpoint (at the tail), unless a sink of that name was added again.
      positions: () =>
        this.marks
          .filter((m) => !m.released || !this.marks.some((o) => !o.released && o.name === m.name))
          .map((m) => [m.name, m.committed] as const),
      onError: (sink, error) => options.logger.warn({ sink, err: String(error) }, 'could not save the spool cursor'),
      fs: options.fs,
      now: options.now,
    });
    this.#records = new RecordReader(this);
  }

  /** The sink names a new segment's header gets, in bit order; a released slot is '' (no sink is called that). */
  headerNames(): string[] {
    return this.marks.map((m) => (m.released ? '' : m.name));
  }

  /** The end of the data written so far: where a sink added by a reload starts, and a removed one is left. */
  tail(): Position {
    const active = this.active;
    return { segment: active.id, offset: active.validEnd };
  }

  /** Reload: a new sink slot, its reader starting at `start` (the start of the segment just begun for it). */
  addMark(name: string, start: Position): SinkMark {
    const mark = new SinkMark(name, this.marks.length, this.now);
    mark.readPos = start;
    mark.committed = start;
    this.marks.push(mark);
    this.store.changed();
    // Saved at once: a crash before the periodic save would otherwise make it start at the oldest data next time.
    this.store.flush();
    return mark;
  }

  /** Reload: sink slot `index` is removed; returns the points it had not committed (counted as dropped). */
  releaseMark(index: number): number {
    const mark = this.marks[index]!;
    const dropped = mark.release(this.tail());
    this.store.changed();
    this.store.flush();
    this.deletePassed();
    return dropped;
  }

  get active(): Segment {
    return this.segments.at(-1)!;
  }

  segmentAtOrAfter(id: number): Segment | undefined {
    const segments = this.segments;
    // Readers almost always ask for the first or the one they are in: a short linear scan beats a search.
    for (let i = 0; i < segments.length; i++) if (segments[i]!.id >= id) return segments[i];
    return undefined;
  }

  readFd(segment: Segment): number {
    const known = this.#readFds.get(segment.id);
    if (known !== undefined) return known;
    try {
      const fd = this.fs.openSync(segment.file, 'r');
      this.#readFds.set(segment.id, fd);
      return fd;
    } catch {
      return -1;
    }
  }

  // --- the writer's side ----------------------------------------------------------------------------

  /** An entry was appended to `pending` for the sinks in `sinks`: their totals grow, waiting readers wake. */
  appended(sinks: number, points: number, size: number, receivedAt: number): void {
    this.bytes += size;
    const marks = this.marks;
    for (let i = 0; i < marks.length; i++) if ((sinks & (1 << i)) !== 0) marks[i]!.appended(points, size, receivedAt);
  }

  /**
   * The pending records could not be written and are discarded: each sink's totals lose those it had not read yet
   * (a batch that holds some keeps them: the broker redelivers their messages, a duplicate, never a loss). When a
   * reader has seen them, the active segment is sealed so that their positions are never given to other records.
   */
  discardPending(): void {
    const pending = this.pending;
    const active = this.active;
    this.bytes -= pending.bytes;
    for (const m of this.marks) {
      const bit = m.bit;
      for (let i = this.#pendingIndex(m); i >= 0 && i < pending.count; i++)
        if ((pending.sinksOf(i) & bit) !== 0) m.unwritten(pending.pointsOf(i), pending.sizeOf(i));
    }
    if (pending.seen) active.sealed = true;
    pending.clear();
  }

  /** A new segment, after the last. */
  added(segment: Segment): void {
    this.segments.push(segment);
    this.bytes += segment.validEnd;
  }

  /** The active segment's records were cut away (every sink had them: a full disk). */
  cleared(segment: Segment): number {
    const freed = segment.validEnd - segment.dataStart;
    this.bytes -= freed;
    segment.clear();
    this.recent.clear();
    return freed;
  }

  /**
   * The overflow policy deletes the oldest segment: what each sink had not committed of it is counted as dropped
   * and its marks move past it. That includes the part of a batch in flight: its records leave the disk, so a
   * restart before the sink takes it would lose them (if the sink does take it later, those points are counted
   * both written and dropped: over-counted, never lost silently).
   */
  dropOldest(): void {
    const oldest = this.segments[0]!;
    for (const m of this.marks) this.#countDrop(m, oldest);
    this.#remove(oldest, true);
    for (const m of this.marks) if (m.oldest.kind === 'none' && m.points > 0) this.#learnOldest(m);
    this.logger.warn({ segment: oldest.file, records: oldest.records }, 'spool full: dropped the oldest segment');
    this.store.changed();
  }

  /**
   * Every sink has committed all that was written for it (the pending records, being written now, aside): the
   * newest segment holds nothing anyone still needs.
   */
  allDelivered(): boolean {
    const pending = this.pending;
    return this.marks.every((m) => {
      let burst = 0;
      for (let i = 0; i < pending.count; i++) if ((pending.sinksOf(i) & m.bit) !== 0) burst += pending.pointsOf(i);
      return m.waiting() === burst;
    });
  }

  // --- the readers' side ----------------------------------------------------------------------------

  /**
   * The record at `offset` is bad: the hole every reader skips, up to the next record that passes its checks
   * (found once, then known to every reader). Nothing more is appended to a damaged file: the active segment is
   * sealed, and the writer starts the next one at its next append (the pending records, appended before, still
   * go to the positions readers may have seen them at).
   */
  holeAt(segment: Segment, offset: number, reason: string): Hole {
    const known = segment.holeAt(offset);
    if (known !== undefined) return known;
    // Found while running (bit rot after the start-up scan): searched once, then known to every reader.
    const hole = findHole(this.fs, segment, offset, reason);
    segment.addHole(hole);
    this.recent.clear();
    this.counters.corruptSkipped++;
    this.logger.error(
      { segment: segment.file, offset, skippedBytes: hole.end - offset, records: hole.records, reason },
      'spool: corrupt record skipped, reading goes on at the next good one',
    );
    if (segment === this.active) segment.sealed = true;
    return hole;
  }

  /** A reader took `batch`, which ended at `readPos`. */
  took(sinkIndex: number, batch: Batch, readPos: Position, nextAt: number | undefined): void {
    this.marks[sinkIndex]!.took(batch, readPos, nextAt === undefined ? NONE_WAITING : { kind: 'at', at: nextAt });
  }

  /** A sink is done with `batch`: its checkpoint moves, and segments every sink has passed go. */
  committed(sinkIndex: number, batch: Batch, end: Position): void {
    this.marks[sinkIndex]!.commit(batch, end);
    this.deletePassed();
    this.store.changed();
  }

  /** Wakes every reader waiting for data (closing: they read what is there). */
  wakeReaders(): void {
    for (const m of this.marks) m.trigger.wake();
  }

  // --- retention ------------------------------------------------------------------------------------

  /** Deletes sealed segments every sink has committed past; wakes a writer refused at maxBytes once there is room. */
  deletePassed(): void {
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      if (!oldest.sealed || !this.marks.every((m) => m.hasPassed(oldest))) break;
      this.#remove(oldest);
    }
    if (this.refusal.state.kind === 'maxBytes' && this.bytes < this.#o.maxBytes * 0.9) this.refusal.lift();
  }

  /** Closes the read descriptors (closing the spool). */
  closeReads(): void {
    for (const fd of this.#readFds.values()) closeQuietly(this.fs, fd);
    this.#readFds.clear();
  }

  /** Deletes the oldest segment; a damaged one is kept in `corrupt/` for inspection unless its space is needed. */
  #remove(segment: Segment, needSpace = false): void {
    this.segments.shift();
    this.recent.dropThrough(segment.id);
    this.bytes -= segment.validEnd;
    const fd = this.#readFds.get(segment.id);
    if (fd !== undefined) {
      this.#readFds.delete(segment.id);
      closeQuietly(this.fs, fd);
    }
    this.#records.forget();
    try {
      if (segment.damaged && !needSpace) {
        quarantine(this.fs, this.#o.segmentsDir, segment.file);
        this.logger.warn(
          { segment: segment.file, holes: segment.holes.length },
          'damaged spool segment passed by every sink: kept in corrupt/',
        );
      } else this.fs.unlinkSync(segment.file);
    } catch {
      // already gone
    }
  }

  #countDrop(m: SinkMark, segment: Segment): void {
    const idx = segment.indexOf(m.name);
    const c = m.committed;
    // A released sink's backlog was counted when it was released.
    if (!m.released && idx >= 0 && c.segment <= segment.id) {
      const from = c.segment < segment.id ? segment.dataStart : Math.max(c.offset, segment.dataStart);
      // Read position inside this segment: records before it are in flight, the rest still pending.
      const readAt = m.readPos.segment < segment.id ? segment.dataStart : m.readPos.segment > segment.id ? Infinity : m.readPos.offset;
      let pendingPoints = 0;
      let pendingBytes = 0;
      let inflightPoints = 0;
      if (from <= segment.dataStart && readAt <= segment.dataStart) {
        pendingPoints = segment.points[idx]!;
        pendingBytes = segment.bytes[idx]!;
      } else {
        const records = this.#records;
        for (let f = records.next(segment.id, from); f !== undefined && f.segment === segment; f = records.next(segment.id, f.next)) {
          if ((f.sinks & (1 << idx)) === 0) continue;
          if (f.start < readAt) inflightPoints += f.points;
          else {
            pendingPoints += f.points;
            pendingBytes += f.next - f.start;
          }
        }
      }
      m.dropped += pendingPoints + inflightPoints;
      m.points = Math.max(0, m.points - pendingPoints);
      m.bytes = Math.max(0, m.bytes - pendingBytes);
    }
    if (m.readPos.segment <= segment.id) {
      m.readPos = { segment: segment.id + 1, offset: 0 };
      m.oldest = NONE_WAITING; // learnt again once the segment is gone
    }
    if (m.committed.segment <= segment.id) m.committed = { segment: segment.id + 1, offset: 0 };
  }

  // --- start-up -------------------------------------------------------------------------------------

  /**
   * Start-up: sets a sink's marks at its checkpoint `start` and counts what lies between it and the end of the
   * spool (the segment counters, minus what the sink already passed inside its current segment).
   */
  restore(m: SinkMark, start: Position): void {
    m.readPos = start;
    m.committed = start;
    let points = 0;
    let bytes = 0;
    for (const s of this.segments) {
      const idx = s.indexOf(m.name);
      if (idx < 0 || s.id < start.segment) continue;
      points += s.points[idx]!;
      bytes += s.bytes[idx]!;
    }
    const segment = this.segmentAtOrAfter(start.segment);
    if (segment !== undefined && segment.id === start.segment && start.offset > segment.dataStart) {
      const bit = segment.bitOf(m.name);
      const records = this.#records;
      for (
        let f = records.next(segment.id, segment.dataStart);
        f !== undefined && f.segment === segment && f.start < start.offset;
        f = records.next(segment.id, f.next)
      ) {
        if ((f.sinks & bit) !== 0) {
          points -= f.points;
          bytes -= f.next - f.start;
        }
      }
    }
    m.points = Math.max(0, points);
    m.bytes = Math.max(0, bytes);
    m.oldest = NONE_WAITING;
    if (m.points > 0) this.#learnOldest(m);
  }

  /**
   * Looks up when the sink's oldest unread record arrived (after a start or a drop: not known from appends): the
   * first one written after its read position, else the first one pending.
   */
  #learnOldest(m: SinkMark): void {
    const i = this.#pendingIndex(m);
    const at =
      (i === 0 ? this.#records.firstFor(m.name, m.readPos.segment, m.readPos.offset) : undefined) ??
      (i >= 0 ? this.pending.firstAt(m.bit, i) : undefined);
    m.oldest = at === undefined ? NONE_WAITING : { kind: 'at', at };
  }

  /** The first pending record the sink has not read (0 when its reader is in the written data; -1: not a record). */
  #pendingIndex(m: SinkMark): number {
    return pendingIndexAt(this, m.readPos);
  }
}

/**
 * Where a reader at `p` stands in the pending records: 0 while it is in the written data, the index of the record
 * it reads next when it has read into them, -1 when `p` is past them but not at one (never, if the books are right).
 */
export function pendingIndexAt(ledger: Pick<SpoolLedger, 'active' | 'pending'>, p: Position): number {
  const active = ledger.active;
  if (p.segment !== active.id || p.offset <= active.validEnd) return 0;
  return ledger.pending.indexAt(p.offset - active.validEnd);
}

/** A read descriptor that fails to close loses nothing. */
function closeQuietly(fs: SpoolFs, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing to do
  }
}
