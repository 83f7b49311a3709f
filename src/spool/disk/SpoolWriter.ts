import path from 'node:path';
import type { OverflowPolicy } from '../../config/Config.ts';
import type { Entry } from '../Entry.ts';
import { acceptance } from '../Spool.ts';
import { ActiveSegmentFile } from './ActiveSegmentFile.ts';
import { GroupSync } from './GroupSync.ts';
import { META } from './PendingRecords.ts';
import { encodedRecordBytes, RECORD_HEADER_BYTES } from './recordCodec.ts';
import { Segment } from './Segment.ts';
import { encodeHeader, segmentName } from './segmentFile.ts';
import { syncDir } from './spoolDirectory.ts';
import type { SpoolLedger } from './SpoolLedger.ts';

export interface SpoolWriterOptions {
  readonly ledger: SpoolLedger;
  readonly sinks: readonly string[];
  readonly segmentsDir: string;
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  /** Already capped at maxBytes / 4. */
  readonly segmentBytes: number;
  /** ack=write: background fdatasync interval; 0 (ack=fsync) = only when asked. */
  readonly fsyncIntervalMs: number;
}

/** After a write failed for lack of space, appends are refused this long before the next try. */
const DISK_FULL_RETRY_MS = 1000;
export const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * The disk spool's one writer: appends records to the active segment (gathered per burst, one write(2) each),
 * rolls to the next segment, applies the overflow policy, recovers from a full disk, and refuses appends when it
 * must. It knows the readers only through the ledger: what it writes becomes their totals there.
 */
export class SpoolWriter {
  readonly #o: SpoolWriterOptions;
  readonly #ledger: SpoolLedger;
  readonly #file: ActiveSegmentFile;
  readonly #sync: GroupSync;
  /** Records appended but discarded because they could not be written, since the last `flush()`. */
  #discardedSinceFlush = false;
  /** Discards since open (see Spool.discards). */
  #discards = 0;

  constructor(options: SpoolWriterOptions) {
    this.#o = options;
    this.#ledger = options.ledger;
    this.#file = new ActiveSegmentFile(options.ledger.fs);
    this.#sync = new GroupSync({
      fd: () => this.#file.fd,
      intervalMs: options.fsyncIntervalMs,
      write: () => void this.writePending(),
      onSync: () => this.#ledger.counters.fsyncs++,
      onError: (error) =>
        this.#ledger.logger.error(
          { code: errorCode(error), err: error.message },
          'spool: fdatasync failed: the records since the last one may not be on disk',
        ),
      fs: options.ledger.fs,
    });
  }

  /** Start-up: goes on appending to the newest segment when it can, else starts one. */
  resume(sameSinks: boolean): void {
    const ledger = this.#ledger;
    const last = ledger.segments.at(-1);
    if (last !== undefined && !last.sealed && sameSinks) {
      this.#file.reopen(last.file);
    } else {
      if (last !== undefined) last.sealed = true;
      try {
        this.#startSegment();
      } catch (error) {
        // A full disk must not stop the start (a crash loop): with a sealed newest segment, append retries the
        // roll, which frees delivered data first (see #freeDelivered); until then appends are refused.
        if (last === undefined || !DISK_FULL_CODES.has(errorCode(error))) throw error;
        ledger.counters.diskFullEvents++;
        ledger.logger.error(
          { code: errorCode(error) },
          'spool: disk full at start, no new segment yet: refusing messages until there is room',
        );
      }
    }
  }

  /** Starts the background fdatasync (ack=write), once the spool is open. */
  start(): void {
    this.#sync.start();
  }

  append(entry: Entry): boolean {
    const ledger = this.#ledger;
    if (ledger.refusal.state.kind !== 'accepting') return false;
    if (entry.sinks === 0) return true; // addressed to no sink: nothing to keep
    const size = encodedRecordBytes(entry);
    if (ledger.bytes + size > this.#o.maxBytes) {
      if (this.#o.overflow === 'block') {
        ledger.refusal.refuseFull();
        return false;
      }
      while (ledger.bytes + size > this.#o.maxBytes && ledger.segments.length > 1) ledger.dropOldest();
    }
    const active = ledger.active;
    const pending = ledger.pending;
    // Sealed: a previous roll could not create the next file (disk full), or corruption was found in it.
    const activeEnd = active.validEnd + pending.bytes;
    if (active.sealed || (activeEnd + size > active.dataStart + this.#o.segmentBytes && activeEnd > active.dataStart)) {
      if (!this.writePending() || !this.#roll()) return false;
    }
    if (!pending.fits(size) && !this.writePending()) return false;
    pending.add(entry, size);
    ledger.appended(entry.sinks, entry.points, size, entry.receivedAt);
    return true;
  }

  /**
   * Reload, before a sink is added: writes what is pending and starts a new segment, so that the new sink's name is
   * in the header of every segment it reads. False (appends refused, as after any failed roll) when it cannot.
   */
  rollForNewSink(sinks: readonly string[]): boolean {
    if (!this.writePending()) return false;
    return this.#roll(sinks);
  }

  get discards(): number {
    return this.#discards;
  }

  flush(): boolean {
    this.writePending();
    const written = !this.#discardedSinceFlush;
    this.#discardedSinceFlush = false;
    return written;
  }

  /**
   * ack=fsync: calls back once the records appended so far are on disk. They are not written here: the group
   * commit writes every record of its cycle with one write(2) right before its fdatasync (GroupSync), or the end
   * of a burst writes them first; a failed write fails the callback.
   */
  sync(callback: (error?: Error | null) => void): void {
    this.#sync.sync(callback, this.#ledger.pending.count === 0);
  }

  /** Closing: writes what is pending and closes the active file. */
  close(): void {
    this.writePending();
    try {
      this.#file.close();
    } catch (error) {
      this.#sync.failWritten(asError(error)); // not released as flushed by stop()
      throw error;
    } finally {
      this.#sync.stop();
    }
  }

  /**
   * Writes the pending records to the active segment, where readers read them from the file or the recent window
   * from then on. When they cannot be written (disk full, I/O error) they are discarded, counted, and the next
   * `flush()` reports it: their messages must not be acknowledged. False in that case.
   */
  writePending(): boolean {
    const ledger = this.#ledger;
    const pending = ledger.pending;
    if (pending.count === 0) return true;
    const { data, meta } = pending;
    if (this.#write(data)) {
      // The active segment after the write (freeing a delivered segment on a full disk starts a new one).
      const active = ledger.active;
      const recent = ledger.recent;
      const held = recent.hold(data);
      for (let i = 0, at = held; i < meta.length; i += META) {
        const start = active.validEnd;
        const size = meta[i + 2]!;
        active.add(meta[i]!, meta[i + 1]!, size, meta[i + 3]!);
        if (held >= 0)
          recent.push(active.id, start, active.validEnd, meta[i]!, meta[i + 1]!, meta[i + 3]!, at + RECORD_HEADER_BYTES, at + size);
        at += size;
      }
      pending.clear();
      this.#sync.written();
      return true;
    }
    ledger.counters.unwrittenRecords += pending.count;
    ledger.discardPending();
    this.#discardedSinceFlush = true;
    this.#discards++;
    this.#sync.discarded(new Error(`spool write failed: ${acceptance(ledger.refusal.refusal).fullReason ?? 'EIO'}`));
    return false;
  }

  // --- internals --------------------------------------------------------------------------------

  /** Writes the pending burst at the end of the active segment. */
  #write(record: Buffer): boolean {
    try {
      this.#file.write(record, this.#ledger.active.validEnd);
    } catch (error) {
      return this.#onWriteError(error, record);
    }
    this.#ledger.counters.bytesWritten += record.length;
    return true;
  }

  #onWriteError(error: unknown, record: Buffer): boolean {
    const code = errorCode(error);
    const ledger = this.#ledger;
    if (DISK_FULL_CODES.has(code)) {
      ledger.counters.diskFullEvents++;
      // First what costs nothing: the active segment's records that every sink already has.
      // (A reader that had copied pending records reads them again from the new segment: a duplicate, not a loss.)
      if (this.#freeDelivered()) {
        // No next file (refused by the roll): never write into the segment just cut, whose positions were given
        // out already (the Redis sink skips a position it applied), nor drop segments for a file that is closed.
        if (!this.#roll()) return false;
        ledger.deletePassed();
        try {
          this.#file.write(record, ledger.active.validEnd);
          ledger.counters.bytesWritten += record.length;
          return true;
        } catch (again) {
          return this.#onWriteError(again, record);
        }
      }
      // A burst's write may need more room than the oldest segment frees: drop until it fits or one is left.
      const active = ledger.active;
      while (this.#o.overflow === 'dropOldest' && ledger.segments.length > 1) {
        ledger.dropOldest();
        try {
          this.#file.write(record, active.validEnd);
          ledger.counters.bytesWritten += record.length;
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
    this.#ledger.logger.error(
      { code, err: error instanceof Error ? error.message : String(error) },
      'spool write failed: refusing messages until it succeeds',
    );
    this.#ledger.refusal.refuseFor(code, DISK_FULL_RETRY_MS);
    return false;
  }

  /** Seals the active segment and starts the next. False (and refusing) when the new file cannot be created. */
  #roll(sinks?: readonly string[]): boolean {
    const ledger = this.#ledger;
    const active = ledger.active;
    try {
      if (this.#file.close()) ledger.counters.fsyncs++;
    } catch (error) {
      // Its records were written but may not be on disk (the fdatasync failed): none of them may be acknowledged.
      ledger.logger.error({ code: errorCode(error), segment: active.file }, 'spool: flushing the sealed segment failed');
      this.#sync.failWritten(asError(error));
    }
    active.sealed = true;
    for (let attempt = 0; ; attempt++) {
      try {
        this.#startSegment(sinks);
        return true;
      } catch (error) {
        const code = errorCode(error);
        if (DISK_FULL_CODES.has(code)) ledger.counters.diskFullEvents++;
        // The segment just sealed may be delivered in full already: cut it to its header to make room.
        if (attempt === 0 && DISK_FULL_CODES.has(code) && this.#freeDelivered()) continue;
        if (attempt <= 1 && DISK_FULL_CODES.has(code) && this.#o.overflow === 'dropOldest' && ledger.segments.length > 1) {
          ledger.dropOldest();
          continue;
        }
        return this.#refuse(code, error);
      }
    }
  }

  /**
   * A full disk with everything delivered: only sealed segments are ever deleted, so the fully delivered newest
   * segment would hold the disk forever (ENOSPC until an operator steps in). When every sink has committed all it
   * was given (apart from the pending burst being written), the newest segment is cut back to its header, which
   * frees its space at once; it is sealed and deleted as passed once the next segment exists. True when space
   * was freed.
   */
  #freeDelivered(): boolean {
    const ledger = this.#ledger;
    const last = ledger.active;
    if (last.validEnd <= last.dataStart) return false;
    if (!ledger.allDelivered()) return false;
    const fs = ledger.fs;
    try {
      if (last.sealed) {
        const fd = fs.openSync(last.file, 'r+');
        try {
          fs.ftruncateSync(fd, last.dataStart);
        } finally {
          fs.closeSync(fd);
        }
      } else this.#file.truncate(last.dataStart);
    } catch {
      return false;
    }
    const freed = ledger.cleared(last);
    ledger.logger.warn(
      { segment: last.file, freedBytes: freed },
      'disk full: every sink has the newest segment, its records were cut to make room',
    );
    return true;
  }

  #startSegment(sinks: readonly string[] = this.#ledger.headerNames()): void {
    const ledger = this.#ledger;
    const id = (ledger.segments.at(-1)?.id ?? 0) + 1;
    const file = path.join(this.#o.segmentsDir, segmentName(id));
    // The ledger's names, not the options': a reload may have added or released sinks since the start.
    const header = encodeHeader({ sinks, createdAt: ledger.now() });
    this.#file.create(file, header);
    ledger.counters.bytesWritten += header.length;
    syncDir(ledger.fs, this.#o.segmentsDir);
    ledger.added(new Segment({ id, file, sinks, dataStart: header.length, sealed: false }));
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function errorCode(error: unknown): string {
  return (error as { code?: string } | null)?.code ?? 'EIO';
}
