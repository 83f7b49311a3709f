import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SpoolConfig } from '../../config/Config.ts';
import { ActiveSegmentFile } from './ActiveSegmentFile.ts';
import { GroupSync } from './GroupSync.ts';
import type { Entry } from '../Entry.ts';
import type { Spool, SpoolCursor, SpoolStats } from '../Spool.ts';
import { CursorStore, clampPosition } from './CursorStore.ts';
import { DiskCursor, type SegmentLog } from './DiskCursor.ts';
import { encodedRecordBytes, RECORD_HEADER_BYTES } from './recordCodec.ts';
import { META, PendingRecords } from './PendingRecords.ts';
import { Segment } from './Segment.ts';
import { encodeHeader, segmentName } from './segmentFile.ts';
import { recoverSegments } from './recoverSegments.ts';
import { RecentRecords } from './RecentRecords.ts';
import { Refusal } from './Refusal.ts';
import { loadOrCreateOrigin, prepareSpoolDirectory, syncDir } from './spoolDirectory.ts';

export interface DiskSpoolOptions extends Omit<SpoolConfig, 'type'> {
  /** Sink names in config order: bit i of `Entry.sinks` is sinks[i]. */
  readonly sinks: readonly string[];
  readonly logger: Logger;
  readonly now?: () => number;
  /** Size of the in-memory window of recent records (tests make it small). */
  readonly recent?: { readonly maxRecords: number; readonly maxBytes: number };
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
  readonly #o: DiskSpoolOptions;
  readonly #now: () => number;
  readonly #segmentsDir: string;
  readonly #store: CursorStore;
  readonly #segmentBytes: number;
  #segments: Segment[] = [];
  #cursors: DiskCursor[] = [];
  readonly #file = new ActiveSegmentFile();
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
    this.recent = new RecentRecords(options.recent ?? RECENT);
    this.syncBeforeAck = options.ack === 'fsync';
    this.#segmentsDir = path.join(options.dir, 'segments');
    this.#store = new CursorStore({
      dir: path.join(options.dir, 'cursors'),
      intervalMs: options.checkpointIntervalMs,
      positions: () => this.#cursors.map((c) => [c.name, c.committed] as const),
      onError: (sink, error) => options.logger.warn({ sink, err: String(error) }, 'could not save the spool cursor'),
      ...(options.now ? { now: options.now } : {}),
    });
    // At least four segments fit in the spool, so dropping the oldest frees at most a quarter of it.
    this.#segmentBytes = Math.min(options.segmentBytes, Math.floor(options.maxBytes / 4));
    this.#sync = new GroupSync({
      fd: () => this.#file.fd,
      intervalMs: options.ack === 'fsync' ? 0 : options.fsyncIntervalMs,
      onSync: () => this.#stats.fsyncs++,
    });
  }

  async open(): Promise<void> {
    const o = this.#o;
    prepareSpoolDirectory(o.dir, this.#segmentsDir);
    this.origin = loadOrCreateOrigin(o.dir);
    const recovered = recoverSegments({ dir: this.#segmentsDir, logger: o.logger });
    this.#segments = recovered.segments;
    this.#stats.tornBytesRecovered = recovered.tornBytes;
    this.#stats.corruptSkipped = recovered.corrupt;
    const last = this.#segments.at(-1);
    if (last !== undefined && !last.sealed && sameNames(last.sinks, o.sinks)) {
      this.#file.reopen(last.file);
    } else {
      if (last !== undefined) last.sealed = true;
      this.#startSegment();
    }
    this.#bytes = this.#segments.reduce((sum, s) => sum + s.validEnd, 0);

    const first = this.#segments[0]!;
    this.#cursors = o.sinks.map((name) => {
      const saved = this.#store.load(name);
      const start = saved ?? { segment: first.id, offset: first.dataStart };
      const cursor = new DiskCursor({ name, bit: 1 << o.sinks.indexOf(name), log: this, now: this.#now, start: clampPosition(start, this.#segments) });
      return cursor;
    });
    for (const c of this.#cursors) this.#countPending(c);
    this.#deletePassed();
    this.#sync.start();
    o.logger.info(
      {
        dir: o.dir,
        segments: this.#segments.length,
        bytes: this.#bytes,
        backlog: Object.fromEntries(this.#cursors.map((c) => [c.name, c.backlog().points])),
        tornBytesRecovered: recovered.tornBytes,
        corruptSkipped: recovered.corrupt,
      },
      'spool opened',
    );
  }

  append(entry: Entry): boolean {
    if (this.#refusal.reason !== undefined) return false;
    if (entry.sinks === 0) return true; // addressed to no sink: nothing to keep
    const size = encodedRecordBytes(entry);
    if (this.#bytes + size > this.#o.maxBytes) {
      if (this.#o.overflow === 'block') {
        this.#refusal.refuse('maxBytes');
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

  onCorrupt(segment: Segment, offset: number, reason: string): void {
    if (offset >= segment.validEnd) return;
    this.recent.clear();
    this.#stats.corruptSkipped++;
    this.#o.logger.error({ segment: segment.file, offset, reason, skippedBytes: segment.validEnd - offset }, 'corrupt spool record: skipping the rest of the segment');
    segment.validEnd = offset;
    if (segment === this.#segments.at(-1)) this.#roll();
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
    const active = this.#segments.at(-1)!;
    if (this.#write(burst.data, active)) {
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

  #write(record: Buffer, active: Segment): boolean {
    try {
      this.#file.write(record, active.validEnd);
    } catch (error) {
      return this.#onWriteError(error, record, active);
    }
    this.#stats.bytesWritten += record.length;
    return true;
  }

  #onWriteError(error: unknown, record: Buffer, active: Segment): boolean {
    const code = errorCode(error);
    if (DISK_FULL_CODES.has(code)) {
      this.#stats.diskFullEvents++;
      // A burst's write may need more room than the oldest segment frees: drop until it fits or one is left.
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
        if (attempt === 0 && DISK_FULL_CODES.has(code) && this.#o.overflow === 'dropOldest' && this.#segments.length > 1) {
          this.#dropOldest();
          continue;
        }
        return this.#refuse(code, error);
      }
    }
  }

  #startSegment(): void {
    const id = (this.#segments.at(-1)?.id ?? 0) + 1;
    const file = path.join(this.#segmentsDir, segmentName(id));
    const header = encodeHeader({ sinks: this.#o.sinks, createdAt: this.#now() });
    this.#file.create(file, header);
    this.#stats.bytesWritten += header.length;
    syncDir(this.#segmentsDir);
    const segment = new Segment({ id, file, sinks: this.#o.sinks, dataStart: header.length, sealed: false });
    this.#segments.push(segment);
    this.#bytes += header.length;
  }

  #dropOldest(): void {
    const oldest = this.#segments[0]!;
    for (const c of this.#cursors) c.onDropped(oldest);
    this.#remove(oldest);
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
    if (this.#refusal.reason === 'maxBytes' && this.#bytes < this.#o.maxBytes * 0.9) this.#refusal.lift();
  }

  #remove(segment: Segment): void {
    this.#segments.shift();
    this.recent.dropThrough(segment.id);
    this.#bytes -= segment.validEnd;
    try {
      fs.unlinkSync(segment.file);
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
