import path from 'node:path';
import type { Logger } from 'pino';
import type { SpoolConfig } from '../../config/Config.ts';
import type { Entry } from '../Entry.ts';
import { acceptance, type Spool, type SpoolCursor, type SpoolStats } from '../Spool.ts';
import { clampPosition, type Position } from './CursorStore.ts';
import { DiskCursor } from './DiskCursor.ts';
import { recordBoundaryAtOrBefore } from './recordBoundary.ts';
import { recoverSegments, type UnreadableSegment } from './recoverSegments.ts';
import { isDeploymentError, loadOrCreateOrigin, prepareSpoolDirectory, spoolFileError } from './spoolDirectory.ts';
import { SpoolLedger } from './SpoolLedger.ts';
import { SpoolLock, type SpoolLockOptions } from './SpoolLock.ts';
import { realFs, type SpoolFs } from './SpoolFs.ts';
import { SpoolWriter } from './SpoolWriter.ts';

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

/** Sink slots one process can have: bit 31 is the sign bit of the records' masks (see MAX_SINKS). */
const MAX_SLOTS = 31;

/**
 * What was just written stays in memory for the readers (see RecentRecords): 1 MiB, about a second at 12 500 msg/s
 * (a third at 37 500). Measured against the 4 MiB / 65 536 records it was (bench/peak-variants.ts, with the unit's
 * malloc settings; docs/performance.md "Memory"): peak RSS 7–11 MB lower at 12 500 and 30 000 msg/s, CPU per
 * message the same within the noise. A reader further behind reads the file, as after an outage.
 */
const RECENT = { maxRecords: 16_384, maxBytes: 1024 * 1024 };

/**
 * The write-ahead spool on disk: append-only segment files of length- and CRC-framed records, one reader per
 * sink with an atomically replaced checkpoint, a segment deleted once every sink has passed it. It puts together
 * the ledger (the only state the parts share), the writer and one reader (`DiskCursor`) per sink, and opens,
 * reports and closes them.
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
export class DiskSpool implements Spool {
  readonly syncBeforeAck: boolean;
  readonly #o: DiskSpoolOptions;
  readonly #fs: SpoolFs;
  readonly #segmentsDir: string;
  readonly #lock: SpoolLock;
  readonly #ledger: SpoolLedger;
  readonly #writer: SpoolWriter;
  #readers: DiskCursor[] = [];

  constructor(options: DiskSpoolOptions) {
    this.#o = options;
    this.#fs = options.fs ?? realFs;
    this.syncBeforeAck = options.ack === 'fsync';
    this.#segmentsDir = path.join(options.dir, 'segments');
    this.#lock = new SpoolLock({ ...options.lock, fs: this.#fs, dir: options.dir });
    this.#ledger = new SpoolLedger({
      sinks: options.sinks,
      fs: this.#fs,
      logger: options.logger,
      now: options.now ?? Date.now,
      segmentsDir: this.#segmentsDir,
      cursorsDir: path.join(options.dir, 'cursors'),
      checkpointIntervalMs: options.checkpointIntervalMs,
      maxBytes: options.maxBytes,
      recent: options.recent ?? RECENT,
    });
    this.#writer = new SpoolWriter({
      ledger: this.#ledger,
      sinks: options.sinks,
      segmentsDir: this.#segmentsDir,
      maxBytes: options.maxBytes,
      overflow: options.overflow,
      // At least four segments fit in the spool, so dropping the oldest frees at most a quarter of it.
      segmentBytes: Math.min(options.segmentBytes, Math.floor(options.maxBytes / 4)),
      fsyncIntervalMs: options.ack === 'fsync' ? 0 : options.fsyncIntervalMs,
    });
  }

  /** The spool's identity (made once, when the spool directory is created). */
  get discards(): number {
    return this.#writer.discards;
  }

  get origin(): string {
    return this.#ledger.origin;
  }

  async open(): Promise<void> {
    const o = this.#o;
    prepareSpoolDirectory(this.#fs, o.dir, this.#segmentsDir);
    this.#lock.acquire();
    try {
      this.#openSegments();
    } catch (error) {
      this.#lock.release();
      // A file the service user cannot open, a directory where a file belongs: exit 78 with the path, no crash loop.
      if (isDeploymentError(error)) throw spoolFileError(error, o.dir);
      throw error;
    }
    this.#writer.start();
  }

  #openSegments(): void {
    const o = this.#o;
    const ledger = this.#ledger;
    ledger.origin = loadOrCreateOrigin(this.#fs, o.dir);
    const recovered = recoverSegments({ fs: this.#fs, dir: this.#segmentsDir, logger: o.logger });
    ledger.segments.push(...recovered.segments);
    ledger.counters.tornBytesRecovered = recovered.tornBytes;
    ledger.counters.corruptSkipped = recovered.corrupt + recovered.unreadable.length;
    ledger.bytes = recovered.segments.reduce((sum, s) => sum + s.validEnd, 0);
    const last = recovered.segments.at(-1);
    this.#writer.resume(last !== undefined && sameNames(last.sinks, o.sinks));

    const first = ledger.segments[0]!;
    for (const mark of ledger.marks) {
      const saved = ledger.store.load(mark.name);
      mark.unreadableLost = countUnreadable(saved ?? { segment: 0, offset: 0 }, recovered.unreadable);
      ledger.restore(
        mark,
        saved === undefined
          ? { segment: first.id, offset: first.dataStart }
          : this.#safePosition(mark.name, clampPosition(saved, ledger.segments)),
      );
    }
    this.#readers = ledger.marks.map((_, i) => new DiskCursor(ledger, i));
    ledger.deletePassed();
    o.logger.info(
      {
        dir: o.dir,
        segments: ledger.segments.length,
        bytes: ledger.bytes,
        backlog: Object.fromEntries(ledger.marks.map((m) => [m.name, m.backlog().points])),
        tornBytesRecovered: recovered.tornBytes,
        corruptSkipped: ledger.counters.corruptSkipped,
      },
      'spool opened',
    );
  }

  /**
   * A checkpoint must sit on a record boundary. One that points inside a record (a damaged or hand-edited file)
   * is moved back to the last boundary at or before it: the sink re-sends a little, it never skips.
   */
  #safePosition(sink: string, p: Position): Position {
    const s = this.#ledger.segments.find((x) => x.id === p.segment);
    if (s === undefined) return p;
    const boundary = recordBoundaryAtOrBefore(this.#fs, s, p.offset);
    if (boundary === p.offset || p.offset < s.dataStart) return { segment: s.id, offset: boundary };
    this.#ledger.counters.checkpointsRepaired++;
    this.#o.logger.warn(
      { sink, segment: s.file, checkpoint: p.offset, resumeAt: boundary },
      'spool checkpoint does not point at a record: re-sending from the record boundary before it',
    );
    return { segment: s.id, offset: boundary };
  }

  append(entry: Entry): boolean {
    return this.#writer.append(entry);
  }

  flush(): boolean {
    return this.#writer.flush();
  }

  sync(callback: (error?: Error | null) => void): void {
    this.#writer.sync(callback);
  }

  whenWritable(): Promise<void> {
    return this.#ledger.refusal.whenLifted();
  }

  cursor(sinkIndex: number): SpoolCursor {
    const c = this.#readers[sinkIndex];
    if (c === undefined) throw new RangeError(`no cursor for sink index ${sinkIndex} (is the spool open?)`);
    return c;
  }

  addSink(name: string): number {
    const ledger = this.#ledger;
    if (ledger.marks.length >= MAX_SLOTS) throw new RangeError(`no free sink slot: ${MAX_SLOTS} used since start`);
    // A new segment whose header names the sink: it reads from there on (the spool's tail); older segments have no
    // bit for it.
    if (!this.#writer.rollForNewSink([...ledger.headerNames(), name])) {
      throw new Error('the spool could not start a new segment for the added sink (see the spool error above)');
    }
    const mark = ledger.addMark(name, { segment: ledger.active.id, offset: ledger.active.dataStart });
    this.#readers.push(new DiskCursor(ledger, mark.index));
    return mark.index;
  }

  removeSink(index: number): number {
    // The pending records first: the released mark is left at the tail of what is written, past them.
    this.#writer.writePending();
    return this.#ledger.releaseMark(index);
  }

  stats(): SpoolStats {
    const ledger = this.#ledger;
    const { checkpointsRepaired, ...counters } = ledger.counters;
    return {
      type: 'disk',
      entries: ledger.segments.reduce((n, s) => n + s.records, 0) + ledger.pending.count,
      bytes: ledger.bytes,
      maxBytes: this.#o.maxBytes,
      ...acceptance(ledger.refusal.refusal),
      segments: ledger.segments.length,
      ...counters,
      checkpointsRepaired,
      recordsLost: Object.fromEntries(
        ledger.marks.map((m) => [m.name, { corrupt: m.lost, unreadable_segment: m.unreadableLost }] as const),
      ),
    };
  }

  async close(): Promise<void> {
    const ledger = this.#ledger;
    ledger.refusal.stop();
    ledger.wakeReaders();
    this.#writer.close();
    ledger.store.flush();
    // The readers' descriptors are the ledger's.
    ledger.closeReads();
    this.#lock.release();
  }
}

/** A sink whose checkpoint lies before a segment that had to be set aside loses that segment's records. */
function countUnreadable(saved: Position, unreadable: readonly UnreadableSegment[]): number {
  let lost = 0;
  for (const u of unreadable) if (saved.segment <= u.id) lost += u.records;
  return lost;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
