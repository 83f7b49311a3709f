import type { Entry } from './Entry.ts';
import type { Batch } from './Batch.ts';
import type { ReadyLimits } from './BatchTrigger.ts';

/**
 * The log between the MQTT source and the sinks: one writer, one cursor per sink.
 * Implementations: `MemorySpool` (bounded RAM). The disk spool implements the same contract; both run
 * through `test/unit/spool/spoolContract.ts`.
 */
export interface Spool {
  open(): Promise<void>;
  /**
   * Appends one entry. Returns false only under the `block` policy when the spool is full: the caller must
   * not acknowledge the message, and retries after `whenWritable()`.
   */
  append(entry: Entry): boolean;
  /**
   * Makes everything appended so far durable as the ack mode promises before its messages are acknowledged:
   * the disk spool gathers the records of a burst of messages and writes them here with one write(2). The source
   * calls it at the end of each burst, before the burst's acknowledgements leave the socket. False when records
   * appended since the last call could not be written (they were discarded and counted): their messages must
   * not be acknowledged.
   */
  flush(): boolean;
  /**
   * How many times appended records were discarded unwritten since open: only grows. With several connections a
   * burst compares it with its value when the burst opened, since `flush` reports a discard to its first caller only.
   */
  readonly discards: number;
  /**
   * True when an acknowledgement must wait for `sync` (ack mode fsync); false when a written record may be
   * acknowledged at once.
   */
  readonly syncBeforeAck: boolean;
  /** Calls back once everything appended so far is on disk (grouped: one fdatasync serves every waiter). */
  sync(callback: (error?: Error | null) => void): void;
  /** Resolves once `append` can succeed again (immediately when it can now). */
  whenWritable(): Promise<void>;
  /** The cursor of sink number `sinkIndex` (the bit in `Entry.sinks`). */
  cursor(sinkIndex: number): SpoolCursor;
  /**
   * Reload: a cursor for a new sink, starting at the spool's tail (it gets what is appended from now on, nothing
   * older); returns its index, the bit entries address it with. Slots are never reused while the process runs;
   * throws RangeError when all 31 have been used.
   */
  addSink(name: string): number;
  /**
   * Reload: sink `index` is removed. Its cursor is released (nothing waits for it, nothing is kept for it) and
   * what it had not committed is counted as dropped for it; returns that number of points.
   */
  removeSink(index: number): number;
  stats(): SpoolStats;
  close(): Promise<void>;
}

/**
 * What `/status` shows of the spool and `/metrics` exports: the memory spool's figures or the disk spool's, and
 * whether it accepts. The disk figures are absent (not 0) for the memory spool, as in the JSON.
 */
export type SpoolStats = (MemorySpoolStats | DiskSpoolStats) & SpoolAcceptance;

interface SpoolSize {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
}

export interface MemorySpoolStats extends SpoolSize, NoDiskFigures {
  readonly type: 'memory';
}

export interface DiskSpoolStats extends SpoolSize, DiskSpoolFigures {
  readonly type: 'disk';
}

/** The memory spool has none of the disk's figures: reading one gives undefined, never a stale number. */
type NoDiskFigures = { readonly [K in keyof DiskSpoolFigures]?: undefined };

export interface DiskSpoolFigures {
  readonly segments: number;
  /** Bytes written to spool files since start (records and segment headers): SD-card wear. */
  readonly bytesWritten: number;
  readonly fsyncs: number;
  /** Bytes of torn tails cut off at start (a crash or power cut mid-write). */
  readonly tornBytesRecovered: number;
  /** Bad regions found in segments (each skipped up to the next good record), plus segments set aside whole. */
  readonly corruptSkipped: number;
  /** Write failures for lack of space (ENOSPC, EDQUOT). */
  readonly diskFullEvents: number;
  /** Records appended in a burst that could not be written (see `flush`). */
  readonly unwrittenRecords: number;
  /** Checkpoints that pointed inside a record and were moved back to a record boundary (re-sending, not skipping). */
  readonly checkpointsRepaired: number;
  /**
   * Records lost to corruption, per sink and reason: `corrupt` (failed its sync marker, length or CRC check; counted
   * for every sink whose reader skipped it, as its addressee is unreadable), `unreadable_segment` (in a segment whose
   * header failed its CRC, set aside in `corrupt/`, counted for every sink that had not passed it).
   */
  readonly recordsLost: Readonly<Record<string, Readonly<Record<RecordLossReason, number>>>>;
}

/**
 * Whether `append` takes entries. Refused (the block policy at maxBytes, or the disk cannot be written), with the
 * reason as readiness and the JSON show it: 'maxBytes' or the write error code (ENOSPC…).
 */
export type SpoolAcceptance =
  | { readonly full: false; readonly fullReason?: undefined }
  | { readonly full: true; readonly fullReason: string };

/** Why the spool refuses appends. */
export type SpoolRefusal = { readonly kind: 'maxBytes' } | { readonly kind: 'writeFailed'; readonly code: string };

/** The refusal as `SpoolAcceptance` shows it. */
export function acceptance(refusal: SpoolRefusal | undefined): SpoolAcceptance {
  if (refusal === undefined) return { full: false };
  return { full: true, fullReason: refusal.kind === 'maxBytes' ? 'maxBytes' : refusal.code };
}

export type RecordLossReason = 'corrupt' | 'unreadable_segment';

export interface Backlog {
  readonly points: number;
  readonly bytes: number;
  /** receivedAt of the oldest entry not yet committed; undefined when nothing is pending. */
  readonly oldestAt: number | undefined;
}

export interface ReadLimits {
  readonly maxPoints: number;
  readonly maxBytes: number;
}

export interface SpoolCursor {
  backlog(): Backlog;
  /**
   * Resolves when a batch is worth reading: at least `maxPoints` points or `maxBytes` bytes are waiting, or
   * the oldest waiting entry is `maxWaitMs` old, or `signal` aborts (then it resolves, never rejects).
   * `flushNow()` also wakes it.
   */
  ready(limits: ReadyLimits, signal: AbortSignal): Promise<void>;
  /** Wakes a pending `ready()` so what is there is read at once (shutdown drain). */
  flushNow(): void;
  /** The next batch after the last read one, or undefined when nothing is waiting. */
  read(limits: ReadLimits): Batch | undefined;
  /** The batch is done (accepted or rejected): the cursor moves past it for good. */
  commit(batch: Batch): void;
  /** Points this sink lost to the overflow policy since start. */
  dropped(): number;
}
