import { randomUUID } from 'node:crypto';
import type { OverflowPolicy } from '../config/Config.ts';
import { ENTRY_OVERHEAD_BYTES, type Entry } from './Entry.ts';
import { acceptance, type Spool, type SpoolCursor, type SpoolRefusal, type SpoolStats } from './Spool.ts';
import { MemoryCursor } from './MemoryCursor.ts';

/** The memory spool refuses only under the block policy at maxBytes. */
const MAX_BYTES: SpoolRefusal = { kind: 'maxBytes' };

export interface MemorySpoolOptions {
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  /** Number of sinks, i.e. cursors (bits 0..sinkCount-1 of `Entry.sinks`). */
  readonly sinkCount: number;
  readonly now?: () => number;
}

/**
 * The spool kept in RAM, bounded in bytes: one array of entries, one read position per sink.
 * An entry is freed once every sink has read past it; a batch keeps its own copy of the lines, so a batch being
 * retried does not pin the array. When full, `dropOldest` discards the oldest entry and counts it per sink that
 * had not read it; `block` refuses the append so the source stops acknowledging.
 */
export class MemorySpool implements Spool {
  readonly origin = randomUUID();
  readonly #maxBytes: number;
  readonly #overflow: OverflowPolicy;
  readonly #cursors: MemoryCursor[];
  readonly #now: () => number;
  /** entries[i] has sequence number base + i; slots before head are already freed. */
  #entries: (Entry | undefined)[] = [];
  #base = 0;
  #head = 0;
  #bytes = 0;
  #full = false;
  #writableWaiters: (() => void)[] = [];

  constructor(options: MemorySpoolOptions) {
    this.#maxBytes = options.maxBytes;
    this.#overflow = options.overflow;
    const now = options.now ?? Date.now;
    this.#now = now;
    this.#cursors = [];
    for (let i = 0; i < options.sinkCount; i++) {
      this.#cursors.push(new MemoryCursor({ bit: 1 << i, now, source: this }));
    }
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {
    for (const c of this.#cursors) c.flushNow();
  }

  readonly syncBeforeAck = false;
  /** Memory never fails to keep an appended entry. */
  readonly discards = 0;

  /** Nothing to flush: memory is as durable as it gets. */
  sync(callback: (error?: Error | null) => void): void {
    callback(null);
  }

  /** Appends are complete as they happen. */
  flush(): boolean {
    return true;
  }

  append(entry: Entry): boolean {
    if (entry.sinks === 0) return true; // addressed to no sink: nothing to keep
    const size = entry.lines.length + ENTRY_OVERHEAD_BYTES;
    if (this.#bytes + size > this.#maxBytes) {
      if (this.#overflow === 'block') {
        this.#full = true;
        return false;
      }
      while (this.#bytes + size > this.#maxBytes && this.#head < this.#tail()) this.#dropHead();
    }
    this.#entries.push(entry);
    this.#bytes += size;
    const cursors = this.#cursors;
    // A plain loop over at most a handful of cursors: cheaper than any index by bit.
    for (let i = 0; i < cursors.length; i++) {
      const c = cursors[i]!;
      if ((entry.sinks & c.bit) !== 0) c.onAppend(entry, size);
    }
    return true;
  }

  whenWritable(): Promise<void> {
    if (!this.#full) return Promise.resolve();
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  cursor(sinkIndex: number): SpoolCursor {
    const c = this.#cursors[sinkIndex];
    if (c === undefined) throw new RangeError(`no cursor for sink index ${sinkIndex}`);
    return c;
  }

  addSink(_name: string): number {
    const index = this.#cursors.length;
    if (index >= 31) throw new RangeError('no free sink slot: 31 used since start');
    const cursor = new MemoryCursor({ bit: 1 << index, now: this.#now, source: this });
    // At the tail: nothing held so far carries its bit.
    cursor.readPos = this.#tail();
    this.#cursors.push(cursor);
    return index;
  }

  removeSink(index: number): number {
    const dropped = this.#cursors[index]!.release(this.#tail());
    this.onRead();
    return dropped;
  }

  stats(): SpoolStats {
    return {
      type: 'memory',
      entries: this.#tail() - this.#head,
      bytes: this.#bytes,
      maxBytes: this.#maxBytes,
      ...acceptance(this.#full ? MAX_BYTES : undefined),
    };
  }

  // --- called by the cursors -------------------------------------------------------------------

  /** Sequence number one past the newest entry. */
  tail(): number {
    return this.#tail();
  }

  /** Sequence number of the oldest entry still held. */
  head(): number {
    return this.#head;
  }

  /** The entry with sequence number `seq`, or undefined when freed. */
  at(seq: number): Entry | undefined {
    return this.#entries[seq - this.#base];
  }

  /** A cursor moved its read position: free what every cursor has read. */
  onRead(): void {
    const tail = this.#tail();
    let min = tail;
    // A cursor with nothing waiting for it (a sink no route addresses right now) holds nothing back.
    for (const c of this.#cursors) min = Math.min(min, c.keepFrom(tail));
    while (this.#head < min) this.#free();
    this.#compact();
    if (this.#full && this.#bytes < this.#maxBytes) {
      this.#full = false;
      const waiters = this.#writableWaiters;
      this.#writableWaiters = [];
      for (const w of waiters) w();
    }
  }

  // --- internals --------------------------------------------------------------------------------

  #tail(): number {
    return this.#base + this.#entries.length;
  }

  #free(): Entry {
    const index = this.#head - this.#base;
    const entry = this.#entries[index]!;
    this.#entries[index] = undefined;
    this.#bytes -= entry.lines.length + ENTRY_OVERHEAD_BYTES;
    this.#head++;
    return entry;
  }

  #dropHead(): void {
    const seq = this.#head;
    const entry = this.#free();
    const size = entry.lines.length + ENTRY_OVERHEAD_BYTES;
    for (const c of this.#cursors) c.onDropped(seq, entry, size);
    this.#compact();
  }

  /** Shifts the array only when the freed prefix is large, so freeing stays O(1) amortised. */
  #compact(): void {
    const freed = this.#head - this.#base;
    if (freed > 1024 && freed * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(freed);
      this.#base = this.#head;
    }
  }
}
