import { realFs, type SpoolFs } from './SpoolFs.ts';

type Waiter = (error?: Error | null) => void;

export interface GroupSyncOptions {
  /** The file descriptor to flush now (the active segment; -1 when none is open). */
  readonly fd: () => number;
  /** ack=write: flush in the background this often while there is new data; 0 = no background flush. */
  readonly intervalMs: number;
  /**
   * Writes the records appended since the last write (all of them with one write(2)) and reports it through
   * `written()` or `discarded()`: called right before each fdatasync for waiters.
   */
  readonly write?: () => void;
  readonly onSync?: () => void;
  /** An fdatasync failed (its waiters get the error; the background one has none to tell). */
  readonly onError?: (error: NodeJS.ErrnoException) => void;
  readonly fs?: SpoolFs;
}

/**
 * fdatasync scheduling for the spool's active segment.
 * - Group commit: a `sync(callback)` waiter is served by the first fdatasync started after its record was
 *   written; those that arrive while one runs wait for the next (ack=fsync: the PUBACKs of all messages in
 *   flight share it). A waiter whose record is not written yet (`sync(cb, false)`) waits for the spool's next
 *   write: `written()` makes it an ordinary waiter, `discarded()` fails it.
 * - One cycle: the fdatasync returns → the next cycle's turn is queued (setImmediate) → the waiters are called
 *   (each connection's PUBACK leaves, then mqtt.js hands over its next message, whose record is appended) → in
 *   that turn every record appended meanwhile is written with one write(2) and the next fdatasync starts, ahead of
 *   the immediates the waiters queued (the bursts' ends, which would otherwise write them first).
 *   The PUBACKs leave before the next records are written, not overlapping the next fdatasync: a crash then leaves
 *   at most one written but unacknowledged message per connection (a duplicate when redelivered). Holding them
 *   corked until the next fdatasync had started took their writev(2)s off the cycle's critical path (time from
 *   fdatasync returned to the next started: 101–130 µs instead of 213–253 µs with 8 connections) but was not
 *   faster end to end (3 523 against 5 548 msg/s in an A/B at load 11–13) and doubled that bound.
 *   Why a turn, not the first waiter: with several MQTT connections the acknowledgements one fdatasync releases
 *   bring each connection's next message in the same turn, and starting at the first of them would serve it alone:
 *   measured, 1 message per fdatasync with 2 connections, 1.0–1.4 with 4.
 * - A failed fdatasync acknowledges nothing: its waiters get the error, and so do those whose records were written
 *   while it ran (their pages may have been in the writeback that failed, and Linux reports a writeback error to a
 *   descriptor once: the next fdatasync could succeed without them).
 * - Background: with an interval, written data is flushed that often, and never while nothing was written
 *   (idle gateways do not touch the disk).
 * fdatasync runs on libuv's thread pool: the event loop keeps turning while the disk works.
 */
export class GroupSync {
  readonly #o: GroupSyncOptions;
  #dirty = false;
  #running = false;
  /** Records written: the next fdatasync started serves them. */
  #waiters: Waiter[] = [];
  /** Records still in the spool's pending buffer: waiting for its next write. */
  #unwritten: Waiter[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  /** A turn (write, then fdatasync for the waiters) is due at the end of this event-loop turn. */
  #scheduled = false;
  /** The fdatasync in flight cannot vouch for its waiters' records any more (see `failWritten`). */
  #inFlightFailed: Error | undefined;

  constructor(options: GroupSyncOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#o.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      if (this.#dirty && !this.#running && this.#o.fd() >= 0) this.#run();
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Something was written since the last flush. */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Calls back once the caller's record is on disk; `written`: it is in the file already (else pending). */
  sync(callback: Waiter, written = true): void {
    (written ? this.#waiters : this.#unwritten).push(callback);
    this.#schedule();
  }

  /** The pending records were written: their waiters wait for the next fdatasync. */
  written(): void {
    this.#dirty = true;
    if (this.#unwritten.length === 0) return;
    for (const w of this.#unwritten) this.#waiters.push(w);
    this.#unwritten = [];
  }

  /** The pending records could not be written and were discarded: their waiters get `error` (no PUBACK). */
  discarded(error: Error): void {
    const failed = this.#unwritten;
    this.#unwritten = [];
    for (const w of failed) w(error);
  }

  /**
   * The segment holding every record written so far could not be flushed when it was sealed (its fdatasync
   * failed): their waiters get `error`, those of the fdatasync in flight too (it ran on that descriptor, now
   * closed: EBADF, or a reused one, says nothing about them). Records written after this are not affected.
   */
  failWritten(error: Error): void {
    if (this.#running) this.#inFlightFailed = error;
    const failed = this.#waiters;
    this.#waiters = [];
    for (const w of failed) w(error);
  }

  /** Stops the timer and releases waiters (the caller writes and flushes synchronously before closing). */
  stop(): void {
    clearInterval(this.#timer);
    this.discarded(new Error('spool closed before the record was written'));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(null);
  }

  #schedule(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    this.#scheduled = false;
    if (this.#running) return;
    if (this.#unwritten.length > 0) this.#o.write?.();
    if (this.#waiters.length > 0) this.#run();
  };

  #run(): void {
    this.#running = true;
    this.#dirty = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    const done = (error: NodeJS.ErrnoException | null): void => {
      this.#running = false;
      this.#o.onSync?.();
      // EBADF: the segment was sealed (and flushed synchronously) meanwhile; its data is on disk.
      if (error !== null && error.code !== 'EBADF' && this.#inFlightFailed === undefined) this.#o.onError?.(error);
      const e = this.#inFlightFailed ?? (error !== null && error.code !== 'EBADF' ? error : null);
      this.#inFlightFailed = undefined;
      const failed = e === null ? waiters : [...waiters, ...this.#waiters.splice(0)];
      if (waiters.length > 0 || this.#waiters.length > 0 || this.#unwritten.length > 0) this.#schedule();
      for (const w of failed) w(e);
    };
    const fd = this.#o.fd();
    if (fd < 0) done(null);
    else (this.#o.fs ?? realFs).fdatasync(fd, done);
  }
}
