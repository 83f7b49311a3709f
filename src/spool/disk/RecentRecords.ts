/**
 * The records this process wrote most recently, kept in memory in file order: a cursor that keeps up with live
 * traffic copies its batch's text from here instead of reading the file back, checking each CRC — once per sink.
 * A cursor that has fallen further behind than this window (an outage, a restart) reads the file as before.
 *
 * The bytes are the ones written (each burst copied whole into a ring buffer, outside the JS heap), the
 * bookkeeping is parallel arrays of numbers: nothing per record for the garbage collector to trace or move.
 *
 * Entries are contiguous: every record written since start, minus the oldest ones evicted. So the record after
 * the one ending at (segment, offset) is the next entry, also when it sits at the start of the next segment.
 */
export class RecentRecords {
  readonly #maxRecords: number;
  // A ring of parallel typed arrays: no object per record, and outside the JS heap. As `number[]` filled with 0
  // they were eight 512 KiB arrays in V8's large-object space (4 MiB resident from the start, traced by every full
  // GC); typed arrays are calloc'ed, so their pages become resident only as records arrive.
  readonly #segment: Float64Array;
  readonly #start: Float64Array;
  readonly #next: Float64Array;
  /** The record's sink mask: bit 31 is the sign bit (DiskSpool's MAX_SLOTS), as in an Int32. */
  readonly #sinks: Int32Array;
  readonly #points: Float64Array;
  readonly #receivedAt: Float64Array;
  /** Where the record's text starts and ends, in bytes ever held (`#held`): its place in the ring is that modulo its size. */
  readonly #textAt: Float64Array;
  readonly #textEnd: Float64Array;
  #head = 0;
  #count = 0;
  /** The bytes of the bursts held, in order; a burst never wraps around the end (the rest of the lap is skipped). */
  readonly ring: Buffer;
  /** Bytes ever held, skipped tails included: a record is intact while fewer than `ring.length` came after its start. */
  #held = 0;

  constructor(options: { maxRecords: number; maxBytes: number }) {
    this.#maxRecords = options.maxRecords;
    const n = options.maxRecords;
    this.#segment = new Float64Array(n);
    this.#start = new Float64Array(n);
    this.#next = new Float64Array(n);
    this.#sinks = new Int32Array(n);
    this.#points = new Float64Array(n);
    this.#receivedAt = new Float64Array(n);
    this.#textAt = new Float64Array(n);
    this.#textEnd = new Float64Array(n);
    this.ring = Buffer.alloc(options.maxBytes);
  }

  /**
   * Copies a burst of encoded records into the ring, evicting the records it overwrites, and returns where its
   * first byte is held (for `push`). A burst larger than the ring is not held: everything is forgotten (records
   * must stay contiguous) and -1 is returned; its readers read the file.
   */
  hold(data: Buffer): number {
    const size = this.ring.length;
    if (data.length > size) {
      this.clear();
      return -1;
    }
    let at = this.#held;
    const lapEnd = at - (at % size) + size;
    if (at + data.length > lapEnd) at = lapEnd;
    this.#held = at + data.length;
    const overwritten = this.#held - size;
    while (this.#count > 0 && this.#textAt[this.#head]! < overwritten) this.#evict();
    data.copy(this.ring, at % size);
    return at;
  }

  /** Records the next record written (after the previous one in file order); its text is at [textAt, textEnd) of what `hold` returned. */
  push(
    segment: number,
    start: number,
    next: number,
    sinks: number,
    points: number,
    receivedAt: number,
    textAt: number,
    textEnd: number,
  ): void {
    if (this.#count === this.#maxRecords) this.#evict();
    const at = (this.#head + this.#count) % this.#maxRecords;
    this.#segment[at] = segment;
    this.#start[at] = start;
    this.#next[at] = next;
    this.#sinks[at] = sinks;
    this.#points[at] = points;
    this.#receivedAt[at] = receivedAt;
    this.#textAt[at] = textAt;
    this.#textEnd[at] = textEnd;
    this.#count++;
  }

  /**
   * The sequence number (0 = oldest held) of the record a reader at (segment, offset) reads next, or -1 when it
   * is not held: older than the window, or nothing written after that position yet.
   */
  find(segment: number, offset: number): number {
    // Binary search for the first record at or after the position.
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = (this.#head + mid) % this.#maxRecords;
      const s = this.#segment[at]!;
      if (s < segment || (s === segment && this.#start[at]! < offset)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.#count) return -1;
    const at = (this.#head + lo) % this.#maxRecords;
    if (this.#segment[at] === segment && this.#start[at] === offset) return lo;
    // Crossing into a later segment: only right after the record that ends exactly where the reader stands.
    if (lo === 0) return -1;
    const prev = (this.#head + lo - 1) % this.#maxRecords;
    return this.#segment[prev] === segment && this.#next[prev] === offset ? lo : -1;
  }

  get count(): number {
    return this.#count;
  }

  segmentOf(n: number): number {
    return this.#segment[(this.#head + n) % this.#maxRecords]!;
  }

  startOf(n: number): number {
    return this.#start[(this.#head + n) % this.#maxRecords]!;
  }

  nextOf(n: number): number {
    return this.#next[(this.#head + n) % this.#maxRecords]!;
  }

  sinksOf(n: number): number {
    return this.#sinks[(this.#head + n) % this.#maxRecords]!;
  }

  pointsOf(n: number): number {
    return this.#points[(this.#head + n) % this.#maxRecords]!;
  }

  receivedAtOf(n: number): number {
    return this.#receivedAt[(this.#head + n) % this.#maxRecords]!;
  }

  /** Where record n's text starts in `ring`. */
  textStartOf(n: number): number {
    return this.#textAt[(this.#head + n) % this.#maxRecords]! % this.ring.length;
  }

  /** Where record n's text ends in `ring` (a record never wraps around). */
  textEndOf(n: number): number {
    const at = (this.#head + n) % this.#maxRecords;
    return this.#textEnd[at]! - this.#textAt[at]! + (this.#textAt[at]! % this.ring.length);
  }

  /** Forgets the records of segments up to `segment` (it is being deleted). */
  dropThrough(segment: number): void {
    while (this.#count > 0 && this.#segment[this.#head]! <= segment) this.#evict();
  }

  /** Forgets everything (a segment was found corrupt: readers must all see what the file says). */
  clear(): void {
    while (this.#count > 0) this.#evict();
  }

  #evict(): void {
    this.#head = (this.#head + 1) % this.#maxRecords;
    this.#count--;
  }
}
