import { ENTRY_OVERHEAD_BYTES, type Entry } from './Entry.ts';
import type { Batch } from './Batch.ts';
import type { Backlog, ReadLimits, SpoolCursor } from './Spool.ts';
import { BatchTrigger, type ReadyLimits } from './BatchTrigger.ts';
import { BatchCollector } from './BatchCollector.ts';

/** What a cursor needs from the in-memory log it reads. */
export interface EntrySource {
  /** Random per process: a memory spool's positions mean nothing after a restart. */
  readonly origin: string;
  head(): number;
  tail(): number;
  at(seq: number): Entry | undefined;
  onRead(): void;
}

/**
 * One sink's position in a MemorySpool, with running totals of what it has not read yet, so the
 * "is a batch ready?" question costs two comparisons per appended entry.
 */
export class MemoryCursor implements SpoolCursor {
  readonly bit: number;
  readonly #source: EntrySource;
  readPos = 0;
  #unreadEntries = 0;
  #unreadPoints = 0;
  #unreadBytes = 0;
  #inflight: Batch | undefined;
  #dropped = 0;
  #released = false;
  readonly #trigger: BatchTrigger;

  constructor(options: { bit: number; now: () => number; source: EntrySource }) {
    this.bit = options.bit;
    this.#source = options.source;
    this.#trigger = new BatchTrigger(
      {
        pendingPoints: () => this.#unreadPoints,
        pendingBytes: () => this.#unreadBytes,
        oldestAt: () => this.#oldestUnread()?.receivedAt,
      },
      options.now,
    );
  }

  backlog(): Backlog {
    const inflight = this.#inflight;
    return {
      points: this.#unreadPoints + (inflight?.points ?? 0),
      bytes: this.#unreadBytes + (inflight?.bytes ?? 0),
      oldestAt: inflight?.firstReceivedAt ?? this.#oldestUnread()?.receivedAt,
    };
  }

  ready(limits: ReadyLimits, signal: AbortSignal): Promise<void> {
    return this.#trigger.wait(limits, signal);
  }

  flushNow(): void {
    this.#trigger.wake();
  }

  read(limits: ReadLimits): Batch | undefined {
    const tail = this.#source.tail();
    // Entries before the head were freed: none of them was waiting for this cursor.
    let pos = Math.max(this.readPos, this.#source.head());
    const collected = new BatchCollector(Math.min(this.#unreadBytes, limits.maxBytes));
    while (pos < tail && collected.hasRoom(limits)) {
      const e = this.#source.at(pos);
      pos++;
      if (e === undefined || (e.sinks & this.bit) === 0) continue;
      collected.addText(e.lines, pos - 1, e.points, e.lines.length + ENTRY_OVERHEAD_BYTES, e.receivedAt);
    }
    this.readPos = pos;
    this.#source.onRead();
    const batch = collected.build(this.#source.origin, pos);
    if (batch === undefined) return undefined;
    this.#unreadEntries -= batch.ends.length;
    this.#unreadPoints -= batch.points;
    this.#unreadBytes -= batch.bytes;
    this.#inflight = batch;
    return batch;
  }

  commit(batch: Batch): void {
    if (this.#inflight === batch) this.#inflight = undefined;
  }

  dropped(): number {
    return this.#dropped;
  }

  /** The first sequence number this cursor still needs kept: its read position, or none when nothing waits. */
  keepFrom(tail: number): number {
    return this.#unreadEntries === 0 ? tail : this.readPos;
  }

  // --- called by MemorySpool --------------------------------------------------------------------

  /** A reload removed the sink: what it had not committed is counted as dropped (and returned); it holds nothing back. */
  release(tail: number): number {
    const dropped = this.#unreadPoints + (this.#inflight?.points ?? 0);
    this.#dropped += dropped;
    this.#released = true;
    this.#unreadEntries = 0;
    this.#unreadPoints = 0;
    this.#unreadBytes = 0;
    this.#inflight = undefined;
    this.readPos = tail;
    this.#trigger.wake();
    return dropped;
  }

  onAppend(entry: Entry, size: number): void {
    if (this.#released) return;
    this.#unreadEntries++;
    this.#unreadPoints += entry.points;
    this.#unreadBytes += size;
    this.#trigger.onAppend();
  }

  /** The oldest entry was discarded by the overflow policy: count it if this sink had not read it yet. */
  onDropped(seq: number, entry: Entry, size: number): void {
    if (this.readPos > seq || this.#released) return;
    this.readPos = seq + 1;
    if ((entry.sinks & this.bit) === 0) return;
    this.#dropped += entry.points;
    this.#unreadEntries--;
    this.#unreadPoints -= entry.points;
    this.#unreadBytes -= size;
  }

  // --- internals --------------------------------------------------------------------------------

  #oldestUnread(): Entry | undefined {
    if (this.#unreadEntries === 0) return undefined;
    const tail = this.#source.tail();
    for (let pos = Math.max(this.readPos, this.#source.head()); pos < tail; pos++) {
      const e = this.#source.at(pos);
      if (e !== undefined && (e.sinks & this.bit) !== 0) return e;
    }
    return undefined;
  }
}
