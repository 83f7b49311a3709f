import path from 'node:path';
import type { Logger } from 'pino';
import type { SpoolConfig } from '../../config/Config.ts';
import { ActiveSegmentFile } from './ActiveSegmentFile.ts';
import { GroupSync } from './GroupSync.ts';
import type { Entry } from '../Entry.ts';
import type { Spool, SpoolCursor, SpoolStats } from '../Spool.ts';
import { CursorStore, clampPosition, type Position } from './CursorStore.ts';
import { DiskCursor, type SegmentLog } from './DiskCursor.ts';
import { encodedRecordBytes, RECORD_HEADER_BYTES } from './recordCodec.ts';
import { META, PendingRecords } from './PendingRecords.ts';
import { findHole, recordBoundaryAtOrBefore } from './recordBoundary.ts';
import { Segment, type Hole } from './Segment.ts';
import { encodeHeader, segmentName } from './segmentFile.ts';
import { quarantine, recoverSegments, type UnreadableSegment } from './recoverSegments.ts';
import { RecentRecords } from './RecentRecords.ts';
import { Refusal } from './Refusal.ts';
import { isDeploymentError, loadOrCreateOrigin, prepareSpoolDirectory, spoolFileError, syncDir } from './spoolDirectory.ts';
import { SpoolLock, type SpoolLockOptions } from './SpoolLock.ts';
import { realFs, type SpoolFs } from './SpoolFs.ts';

export interface DiskSpoolOptions extends Omit<SpoolConfig, 'type'> {
  /** Sink names in config order: bit i of `Entry.sinks` is sinks[i]. */
  readonly sinks: readonly string[];
  readonly logger: Logger;
  readonly now?: () => number;
  /** Size of the in-memory window of recent records (tests make it small). */
  readonly recent?: { readonly maxRecords: number; readonly maxBytes: number };
  /** The filesystem (tests inject faults); the real one by default. */
  readonly fs?: SpoolFs;
  /** The exclusive lock on `dir` (tests replace the PID liveness check). */
  readonly lock?: Omit<SpoolLockOptions, 'fs' | 'dir'>;
}

/** Appends of one burst are gathered here and written with one write(2); a larger burst writes as it goes. */
const PENDING_BYTES = 256 * 1024;
/** What was just written stays in memory for the cursors (see RecentRecords): 4 MiB, about half a second at 90 000 msg/s. */
const RECENT = { maxRecords: 65_536, maxBytes: 4 * 1024 * 1024 };
/** After a write failed for lack of space, appends are refused this long before the next try. */
const DISK_FULL_RETRY_MS = 1000;
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * The write-ahead spool on disk: append-only segment files of length- and CRC-framed records, one cursor per
 * sink with an atomically replaced checkpoint, a segment deleted once every sink has passed it.
 *
 * Durability: `append` encodes the record into a buffer and `flush` writes everything appended since with one
 * write(2); the source calls `flush` at the end of each burst of messages, before their acknowledgements leave
 * the (corked) socket. So a crash, a kill or an OOM of the gateway loses nothing acknowledged (the kernel has the
 * bytes), and a burst of a few hundred messages costs one system call instead of one each. In ack mode `write` the file is
 * fdatasync'ed every `fsyncIntervalMs` (a power cut loses at most that); in mode `fsync` an acknowledgement
 * waits for an fdatasync that covers it, one fdatasync serving every message waiting at that moment.
 * Bounded by `maxBytes`: `dropOldest` deletes the oldest segment and counts its points per sink that had not
 * read them; `block` refuses appends so the source stops acknowledging. A full disk is handled the same way.
 */
export class DiskSpool implements Spool, SegmentLog {
  readonly syncBeforeAck: boolean;
  origin = '';
  readonly fs: SpoolFs;
  readonly #lock: SpoolLock;
  /** Records of segments whose header could not be trusted, per sink that had not passed them. */
  readonly #unreadableLost = new Map<string, number>();
  #checkpointsRepaired = 0;
  readonly #o: DiskSpoolOptions;
  readonly #now: () => number;
  readonly #segmentsDir: string;
  readonly #store: CursorStore;
  readonly #segmentBytes: number;
  #segments: Segment[] = [];
  #cursors: DiskCursor[] = [];
  readonly #file: ActiveSegmentFile;
  readonly #pending = new PendingRecords(PENDING_BYTES);
  readonly recent: RecentRecords;
  /** Records appended but discarded because they could not be written, since the last `flush()`. */
  #discardedSinceFlush = false;
  /** Includes pending records. */
  #bytes = 0;
  readonly #refusal = new Refusal();
  readonly #sync: GroupSync;
  #stats = { bytesWritten: 0, fsyncs: 0, tornBytesRecovered: 0, corruptSkipped: 0, diskFullEvents: 0, unwrittenRecords: 0 };

  constructor(options: DiskSpoolOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.fs = options.fs ?? realFs;
    this.#file = new ActiveSegmentFile(this.fs);
    this.#lock = new SpoolLock({ ...options.lock, fs: this.fs, dir: options.dir });
    this.recent = new RecentRecords(options.recent ?? RECENT);
    this.syncBeforeAck = options.ack === 'fsync';
    this.#segmentsDir = path.join(options.dir, 'segments');
    this.#store = new CursorStore({
      dir: path.join(options.dir, 'cursors'),
      intervalMs: options.checkpointIntervalMs,
      positions: () => this.#cursors.map((c) => [c.name, c.committed] as const),
      onError: (sink, error) => options.logger.warn({ sink, err: String(error) }, 'could not save the spool cursor'),
      fs: this.fs,
      ...(options.now ? { now: options.now } : {}),
    });
    // At least four segments fit in the spool, so dropping the oldest frees at most a quarter of it.
    this.#segmentBytes = Math.min(options.segmentBytes, Math.floor(options.maxBytes / 4));
    this.#sync = new GroupSync({
      fd: () => this.#file.fd,
      intervalMs: options.ack === 'fsync' ? 0 : options.fsyncIntervalMs,
      onSync: () => this.#stats.fsyncs++,
      fs: this.fs,
    });
  }

  async open(): Promise<void> {
    const o = this.#o;
    prepareSpoolDirectory(this.fs, o.dir, this.#segmentsDir);
    this.#lock.acquire();
    try {
      this.#openSegments();
    } catch (error) {
      this.#lock.release();
      // A file the service user cannot open, a directory where a file belongs: exit 78 with the path, no crash loop.
      if (isDeploymentError(error)) throw spoolFileError(error, o.dir);
      throw error;
    }
    this.#sync.start();
  }

  #openSegments(): void {
    const o = this.#o;
    this.origin = loadOrCreateOrigin(this.fs, o.dir);
    const recovered = recoverSegments({ fs: this.fs, dir: this.#segmentsDir, logger: o.logger });
    this.#segments = recovered.segments;
    this.#stats.tornBytesRecovered = recovered.tornBytes;
    this.#stats.corruptSkipped = recovered.corrupt + recovered.unreadable.length;
    const last = this.#segments.at(-1);
    if (last !== undefined && !last.sealed && sameNames(last.sinks, o.sinks)) {
      this.#file.reopen(last.file);
    } else {
      if (last !== undefined) last.sealed = true;
      try {
        this.#startSegment();
      } catch (error) {
        // A full disk must not stop the start (a crash loop): with a sealed newest segment, append retries the
        // roll, which frees delivered data first (see #freeDelivered); until then appends are refused.
        if (last === undefined || !DISK_FULL_CODES.has(errorCode(error))) throw error;
        this.#stats.diskFullEvents++;
        o.logger.error({ code: errorCode(error) }, 'spool: disk full at start, no new segment yet: refusing messages until there is room');
      }
    }
    this.#bytes = this.#segments.reduce((sum, s) => sum + s.validEnd, 0);

    const first = this.#segments[0]!;
    this.#cursors = o.sinks.map((name) => {
      const saved = this.#store.load(name);
      this.#countUnreadable(name, saved ?? { segment: 0, offset: 0 }, recovered.unreadable);
      const start = saved === undefined ? { segment: first.id, offset: first.dataStart } : this.#safePosition(name, clampPosition(saved, this.#segments));
      return new DiskCursor({ name, bit: 1 << o.sinks.indexOf(name), log: this, now: this.#now, start });
    });
    for (const c of this.#cursors) this.#countPending(c);
    this.#deletePassed();
    o.logger.info(
      {
        dir: o.dir,
        segments: this.#segments.length,
        bytes: this.#bytes,
        backlog: Object.fromEntries(this.#cursors.map((c) => [c.name, c.backlog().points])),
        tornBytesRecovered: recovered.tornBytes,
        corruptSkipped: this.#stats.corruptSkipped,
      },
      'spool opened',
    );
  }

  /** A sink whose checkpoint lies before a segment that had to be set aside loses that segment's records. */
  #countUnreadable(sink: string, saved: Position, unreadable: readonly UnreadableSegment[]): void {
    for (const u of unreadable) {
      if (saved.segment <= u.id) this.#unreadableLost.set(sink, (this.#unreadableLost.get(sink) ?? 0) + u.records);
    }
  }

  /**
   * A checkpoint must sit on a record boundary. One that points inside a record (a damaged or hand-edited file)
   * is moved back to the last boundary at or before it: the sink re-sends a little, it never skips.
   */
  #safePosition(sink: string, p: Position): Position {
    const s = this.#segments.find((x) => x.id === p.segment);
    if (s === undefined) return p;
    const boundary = recordBoundaryAtOrBefore(this.fs, s, p.offset);
    if (boundary === p.offset || p.offset < s.dataStart) return { segment: s.id, offset: boundary };
    this.#checkpointsRepaired++;
    this.#o.logger.warn({ sink, segment: s.file, checkpoint: p.offset, resumeAt: boundary }, 'spool checkpoint does not point at a record: re-sending from the record boundary before it');
    return { segment: s.id, offset: boundary };
  }


  append(entry: Entry): boolean {
    if (this.#refusal.state.kind !== 'accepting') return false;
    if (entry.sinks === 0) return true; // addressed to no sink: nothing to keep
    const size = encodedRecordBytes(entry);
    if (this.#bytes + size > this.#o.maxBytes) {
      if (this.#o.overflow === 'block') {
        this.#refusal.refuseFull();
        return false;
      }
      while (this.#bytes + size > this.#o.maxBytes && this.#segments.length > 1) this.#dropOldest();
    }
    const active = this.#segments.at(-1)!;
    // Sealed: a previous roll could not create the next file (disk full); try again now.
    const activeEnd = active.validEnd + this.#pending.bytes;
    if (active.sealed || (activeEnd + size > active.dataStart + this.#segmentBytes && activeEnd > active.dataStart)) {
      if (!this.flushPending() || !this.#roll()) return false;
    }
    if (!this.#pending.fits(size) && !this.flushPending()) return false;
    this.#pending.add(entry, size);
    this.#bytes += size;
    const cursors = this.#cursors;
    for (let i = 0; i < cursors.length; i++) {
      if ((entry.sinks & (1 << i)) !== 0) cursors[i]!.onAppend(entry.points, size, entry.receivedAt);
    }
    return true;
  }

  flush(): boolean {
    this.flushPending();
    const written = !this.#discardedSinceFlush;
    this.#discardedSinceFlush = false;
    return written;
  }

  sync(callback: (error?: Error | null) => void): void {
    if (!this.flushPending()) {
      callback(new Error(`spool write failed: ${this.#refusal.reason ?? 'EIO'}`));
      return;
    }
    this.#sync.sync(callback);
  }

  whenWritable(): Promise<void> {
    return this.#refusal.whenLifted();
  }

  cursor(sinkIndex: number): SpoolCursor {
    const c = this.#cursors[sinkIndex];
    if (c === undefined) throw new RangeError(`no cursor for sink index ${sinkIndex} (is the spool open?)`);
    return c;
  }

  stats(): SpoolStats {
    return {
      type: 'disk',
      entries: this.#segments.reduce((n, s) => n + s.records, 0) + this.#pending.count,
      bytes: this.#bytes,
      maxBytes: this.#o.maxBytes,
      full: this.#refusal.reason !== undefined,
      ...(this.#refusal.reason !== undefined ? { fullReason: this.#refusal.reason } : {}),
      segments: this.#segments.length,
      ...this.#stats,
      checkpointsRepaired: this.#checkpointsRepaired,
      recordsLost: Object.fromEntries(
        this.#cursors.map((c) => [c.name, { corrupt: c.lost(), unreadable_segment: this.#unreadableLost.get(c.name) ?? 0 }] as const),
      ),
    };
  }

  async close(): Promise<void> {
    this.#refusal.stop();
    for (const c of this.#cursors) c.flushNow();
    this.flushPending();
    this.#file.close();
    this.#store.flush();
    for (const c of this.#cursors) c.close();
    this.#sync.stop();
    this.#lock.release();
  }

  // --- SegmentLog (called by the cursors) ---------------------------------------------------------

  segmentAtOrAfter(id: number): Segment | undefined {
    const segments = this.#segments;
    // Cursors almost always ask for the first or the one they are in: a short linear scan beats a search.
    for (let i = 0; i < segments.length; i++) if (segments[i]!.id >= id) return segments[i];
    return undefined;
  }

  onCommitted(_cursor: DiskCursor): void {
    this.#deletePassed();
    this.#store.changed();
  }

  holeAt(segment: Segment, offset: number, reason: string): Hole {
    const known = segment.holeAt(offset);
    if (known !== undefined) return known;
    // Found while running (bit rot after the start-up scan): searched once, then known to every reader.
    const hole = findHole(this.fs, segment, offset, reason);
    segment.addHole(hole);
    this.recent.clear();
    this.#stats.corruptSkipped++;
    this.#o.logger.error({ segment: segment.file, offset, skippedBytes: hole.end - offset, records: hole.records, reason }, 'spool: corrupt record skipped, reading goes on at the next good one');
    // Nothing more is appended to a damaged file: it is set aside once every sink has passed it.
    if (segment === this.#segments.at(-1) && !segment.sealed && this.flushPending()) this.#roll();
    return hole;
  }

  /**
   * Writes the pending records to the active segment and makes them readable. When they cannot be written
   * (disk full, I/O error) they are discarded, counted, and the next `flush()` reports it: their messages must
   * not be acknowledged. False in that case.
   */
  flushPending(): boolean {
    const burst = this.#pending.take();
    if (burst === undefined) return true;
    const { meta } = burst;
    if (this.#write(burst.data, meta)) {
      // The active segment after the write (freeing a delivered segment on a full disk starts a new one).
      const active = this.#segments.at(-1)!;
      const recent = this.recent;
      const held = recent.hold(burst.data);
      for (let i = 0, at = held; i < meta.length; i += META) {
        const start = active.validEnd;
        const size = meta[i + 2]!;
        active.add(meta[i]!, meta[i + 1]!, size, meta[i + 3]!);
        if (held >= 0) recent.push(active.id, start, active.validEnd, meta[i]!, meta[i + 1]!, meta[i + 3]!, at + RECORD_HEADER_BYTES, at + size);
        at += size;
      }
      this.#sync.markDirty();
      return true;
    }
    const cursors = this.#cursors;
    for (let i = 0; i < meta.length; i += META) {
      const sinks = meta[i]!;
      this.#bytes -= meta[i + 2]!;
      for (let c = 0; c < cursors.length; c++) if ((sinks & (1 << c)) !== 0) cursors[c]!.onUnwritten(meta[i + 1]!, meta[i + 2]!);
    }
    this.#stats.unwrittenRecords += meta.length / META;
    this.#discardedSinceFlush = true;
    return false;
  }

  // --- internals --------------------------------------------------------------------------------

  /** Writes a burst (`meta` as in PendingBurst) at the end of the active segment. */
  #write(record: Buffer, meta: readonly number[]): boolean {
    try {
      this.#file.write(record, this.#segments.at(-1)!.validEnd);
    } catch (error) {
      return this.#onWriteError(error, record, meta);
    }
    this.#stats.bytesWritten += record.length;
    return true;
  }

  #onWriteError(error: unknown, record: Buffer, meta: readonly number[]): boolean {
    const code = errorCode(error);
    if (DISK_FULL_CODES.has(code)) {
      this.#stats.diskFullEvents++;
      // First what costs nothing: the active segment's records that every sink already has.
      if (this.#freeDelivered(meta) && this.#roll()) {
        this.#deletePassed();
        try {
          this.#file.write(record, this.#segments.at(-1)!.validEnd);
          this.#stats.bytesWritten += record.length;
          return true;
        } catch (again) {
          return this.#onWriteError(again, record, meta);
        }
      }
      // A burst's write may need more room than the oldest segment frees: drop until it fits or one is left.
      const active = this.#segments.at(-1)!;
      while (this.#o.overflow === 'dropOldest' && this.#segments.length > 1) {
        this.#dropOldest();
        try {
          this.#file.write(record, active.validEnd);
          this.#stats.bytesWritten += record.length;
          return true;
        } catch {
          // still no room: drop the next one
        }
      }
    }
    return this.#refuse(code, error);
  }

  /** Appends are refused (the source stops acknowledging) for a while; then the next append tries again. */
  #refuse(code: string, error: unknown): false {
    this.#o.logger.error({ code, err: error instanceof Error ? error.message : String(error) }, 'spool write failed: refusing messages until it succeeds');
    this.#refusal.refuseFor(code, DISK_FULL_RETRY_MS);
    return false;
  }

  /** Seals the active segment and starts the next. False (and refusing) when the new file cannot be created. */
  #roll(): boolean {
    const active = this.#segments.at(-1)!;
    try {
      if (this.#file.close()) this.#stats.fsyncs++;
    } catch {
      // a failing close of a sealed file loses nothing already written to it
    }
    active.sealed = true;
    for (let attempt = 0; ; attempt++) {
      try {
        this.#startSegment();
        return true;
      } catch (error) {
        const code = errorCode(error);
        if (DISK_FULL_CODES.has(code)) this.#stats.diskFullEvents++;
        // The segment just sealed may be delivered in full already: cut it to its header to make room.
        if (attempt === 0 && DISK_FULL_CODES.has(code) && this.#freeDelivered([])) continue;
        if (attempt <= 1 && DISK_FULL_CODES.has(code) && this.#o.overflow === 'dropOldest' && this.#segments.length > 1) {
          this.#dropOldest();
          continue;
        }
        return this.#refuse(code, error);
      }
    }
  }

  /**
   * A full disk with everything delivered: only sealed segments are ever deleted, so the fully delivered newest
   * segment would hold the disk forever (ENOSPC until an operator steps in). When every sink has committed all it
   * was given (apart from `meta`, the burst being written), the newest segment is cut back to its header, which
   * frees its space at once; it is sealed and deleted as passed once the next segment exists. True when space
   * was freed.
   */
  #freeDelivered(meta: readonly number[]): boolean {
    const last = this.#segments.at(-1)!;
    if (last.validEnd <= last.dataStart) return false;
    const cursors = this.#cursors;
    for (let c = 0; c < cursors.length; c++) {
      let burst = 0;
      for (let i = 0; i < meta.length; i += META) if ((meta[i]! & (1 << c)) !== 0) burst += meta[i + 1]!;
      if (cursors[c]!.waiting() !== burst) return false;
    }
    try {
      if (last.sealed) {
        const fd = this.fs.openSync(last.file, 'r+');
        try {
          this.fs.ftruncateSync(fd, last.dataStart);
        } finally {
          this.fs.closeSync(fd);
        }
      } else this.#file.truncate(last.dataStart);
    } catch {
      return false;
    }
    const freed = last.validEnd - last.dataStart;
    this.#bytes -= freed;
    last.clear();
    this.recent.clear();
    this.#o.logger.warn({ segment: last.file, freedBytes: freed }, 'disk full: every sink has the newest segment, its records were cut to make room');
    return true;
  }

  #startSegment(): void {
    const id = (this.#segments.at(-1)?.id ?? 0) + 1;
    const file = path.join(this.#segmentsDir, segmentName(id));
    const header = encodeHeader({ sinks: this.#o.sinks, createdAt: this.#now() });
    this.#file.create(file, header);
    this.#stats.bytesWritten += header.length;
    syncDir(this.fs, this.#segmentsDir);
    const segment = new Segment({ id, file, sinks: this.#o.sinks, dataStart: header.length, sealed: false });
    this.#segments.push(segment);
    this.#bytes += header.length;
  }

  #dropOldest(): void {
    const oldest = this.#segments[0]!;
    for (const c of this.#cursors) c.onDropped(oldest);
    this.#remove(oldest, true);
    this.#o.logger.warn({ segment: oldest.file, records: oldest.records }, 'spool full: dropped the oldest segment');
    this.#store.changed();
  }

  /** Deletes sealed segments every cursor has committed past. */
  #deletePassed(): void {
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      if (!oldest.sealed || !this.#cursors.every((c) => c.hasPassed(oldest))) break;
      this.#remove(oldest);
    }
    if (this.#refusal.state.kind === 'maxBytes' && this.#bytes < this.#o.maxBytes * 0.9) this.#refusal.lift();
  }

  /** Deletes the oldest segment; a damaged one is kept in `corrupt/` for inspection unless its space is needed. */
  #remove(segment: Segment, needSpace = false): void {
    this.#segments.shift();
    this.recent.dropThrough(segment.id);
    this.#bytes -= segment.validEnd;
    try {
      if (segment.damaged && !needSpace) {
        quarantine(this.fs, this.#segmentsDir, segment.file);
        this.#o.logger.warn({ segment: segment.file, holes: segment.holes.length }, 'damaged spool segment passed by every sink: kept in corrupt/');
      } else this.fs.unlinkSync(segment.file);
    } catch {
      // already gone
    }
  }

  #countPending(cursor: DiskCursor): void {
    let points = 0;
    let bytes = 0;
    for (const s of this.#segments) {
      const idx = s.indexOf(cursor.name);
      if (idx < 0 || s.id < cursor.readPos.segment) continue;
      points += s.points[idx]!;
      bytes += s.bytes[idx]!;
    }
    cursor.setPending(points, bytes);
    // Subtract what this sink already passed inside its current segment.
    cursor.discountPassed();
  }


}

function errorCode(error: unknown): string {
  return (error as { code?: string } | null)?.code ?? 'EIO';
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
