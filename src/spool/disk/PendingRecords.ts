import type { Entry } from '../Entry.ts';
import { encodeRecordAt } from './recordCodec.ts';

/** Numbers per record in `PendingRecords.meta`: sinks, points, size, receivedAt, start in `data` (flat: no object per record). */
export const META = 5;

/**
 * The records appended since the last write: encoded into one buffer (256 KiB by default, grown for a record that
 * is larger), with what the spool needs of each once it is written: counters for the segment and the cursors. The
 * entry itself is not kept: its text lives on only as these bytes.
 *
 * Ledger state: the writer adds to it and writes it out with one write(2); a reader that has caught up with the
 * file copies the records from here (its batch then holds records not yet written). Their file positions are
 * fixed when appended (the active segment's valid end, plus their place here): the writer writes them there or
 * discards them, and once a reader has seen them (`seen`) a discarded burst seals the segment, so those positions
 * are never given to other records (the Redis sink skips a position it has applied).
 */
export class PendingRecords {
  #buffer: Buffer;
  #length = 0;
  #meta: number[] = [];
  /** A reader has read past one of these records (see above). */
  seen = false;

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

  /** The records, encoded back to back (a view of the buffer, which `add` reuses once they are cleared). */
  get data(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  /** The buffer `startOf` indexes. */
  get buffer(): Buffer {
    return this.#buffer;
  }

  get meta(): readonly number[] {
    return this.#meta;
  }

  /** Whether a record of `size` bytes fits behind what is waiting. */
  fits(size: number): boolean {
    return this.#length + size <= this.#buffer.length;
  }

  /** Encodes `entry` (`size` = encodedRecordBytes(entry)) behind the others; only when it fits or nothing waits. */
  add(entry: Entry, size: number): void {
    if (this.#length === 0 && size > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(size);
    encodeRecordAt(entry, this.#buffer, this.#length, size);
    this.#meta.push(entry.sinks, entry.points, size, entry.receivedAt, this.#length);
    this.#length += size;
  }

  sinksOf(i: number): number {
    return this.#meta[i * META]!;
  }

  pointsOf(i: number): number {
    return this.#meta[i * META + 1]!;
  }

  sizeOf(i: number): number {
    return this.#meta[i * META + 2]!;
  }

  receivedAtOf(i: number): number {
    return this.#meta[i * META + 3]!;
  }

  /** Where record i starts in `buffer` (and how far past the segment's valid end it will sit). */
  startOf(i: number): number {
    return this.#meta[i * META + 4]!;
  }

  /** The index of the record that starts `at` bytes in, `count` at the end, -1 when no record starts there. */
  indexAt(at: number): number {
    if (at === this.#length) return this.count;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.startOf(mid);
      if (s === at) return mid;
      if (s < at) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** receivedAt of the first record from index `from` on addressed to the sink with bit `bit`; undefined when none is. */
  firstAt(bit: number, from = 0): number | undefined {
    const meta = this.#meta;
    for (let i = from * META; i < meta.length; i += META) if ((meta[i]! & bit) !== 0) return meta[i + 3];
    return undefined;
  }

  /** Written or discarded: starts empty (the next `add` reuses the buffer). */
  clear(): void {
    this.#length = 0;
    this.#meta = [];
    this.seen = false;
  }
}
