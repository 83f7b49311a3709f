import type { Entry } from '../Entry.ts';
import { encodeRecordAt } from './recordCodec.ts';

/** Numbers per record in `PendingBurst.meta`: sinks, points, size, receivedAt (flat: no object per record). */
export const META = 4;

/** One burst's records, encoded back to back, as `take()` hands them to the spool's one write(2). */
export interface PendingBurst {
  readonly data: Buffer;
  readonly meta: readonly number[];
}

/**
 * The records appended since the last write: encoded into one buffer (256 KiB by default, grown for a record that
 * is larger), with what the spool needs of each once it is written: counters for the segment and the cursors. The
 * entry itself is not kept: its text lives on only as these bytes.
 */
export class PendingRecords {
  #buffer: Buffer;
  #length = 0;
  #meta: number[] = [];

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#length;
  }

  /** Records waiting. */
  get count(): number {
    return this.#meta.length / META;
  }

  /** Whether a record of `size` bytes fits behind what is waiting. */
  fits(size: number): boolean {
    return this.#length + size <= this.#buffer.length;
  }

  /** Encodes `entry` (`size` = encodedRecordBytes(entry)) behind the others; only when it fits or nothing waits. */
  add(entry: Entry, size: number): void {
    if (this.#length === 0 && size > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(size);
    encodeRecordAt(entry, this.#buffer, this.#length, size);
    this.#length += size;
    this.#meta.push(entry.sinks, entry.points, size, entry.receivedAt);
  }

  /** receivedAt of the first waiting record addressed to the sink with bit `bit`; undefined when none is. */
  firstAt(bit: number): number | undefined {
    return firstAt(this.#meta, bit);
  }

  /**
   * Hands over what waits (undefined when nothing does) and starts empty. `data` views the buffer, which the next
   * `add` reuses: write it before appending again.
   */
  take(): PendingBurst | undefined {
    if (this.#length === 0) return undefined;
    const burst = { data: this.#buffer.subarray(0, this.#length), meta: this.#meta };
    this.#length = 0;
    this.#meta = [];
    return burst;
  }
}

/** receivedAt of the first record in `meta` (as in PendingBurst) addressed to the sink with bit `bit`. */
export function firstAt(meta: readonly number[], bit: number): number | undefined {
  for (let i = 0; i < meta.length; i += META) if ((meta[i]! & bit) !== 0) return meta[i + 3];
  return undefined;
}
