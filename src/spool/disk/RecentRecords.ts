/**
 * The records this process wrote most recently, kept in memory in file order: their line protocol is already a
 * string (the router made it), so a cursor that keeps up with live traffic takes its batch from here instead of
 * reading the file back, checking each CRC and decoding the text again — once per sink. A cursor that has fallen
 * further behind than this window (an outage, a restart) reads the file as before.
 *
 * Entries are contiguous: every record written since start, minus the oldest ones evicted. So the record after
 * the one ending at (segment, offset) is the next entry, also when it sits at the start of the next segment.
 */
export class RecentRecords {
  readonly #maxRecords: number;
  readonly #maxTextBytes: number;
  // A ring of parallel arrays: no object per record.
  readonly #segment: number[];
  readonly #start: number[];
  readonly #next: number[];
  readonly #sinks: number[];
  readonly #points: number[];
  readonly #receivedAt: number[];
  readonly #lines: string[];
  #head = 0;
  #count = 0;
  #textBytes = 0;

  constructor(options: { maxRecords: number; maxTextBytes: number }) {
    this.#maxRecords = options.maxRecords;
    this.#maxTextBytes = options.maxTextBytes;
    const n = options.maxRecords;
    this.#segment = new Array<number>(n).fill(0);
    this.#start = new Array<number>(n).fill(0);
    this.#next = new Array<number>(n).fill(0);
    this.#sinks = new Array<number>(n).fill(0);
    this.#points = new Array<number>(n).fill(0);
    this.#receivedAt = new Array<number>(n).fill(0);
    this.#lines = new Array<string>(n).fill('');
  }

  /** Records the next record written (after the previous one in file order). */
  push(segment: number, start: number, next: number, sinks: number, points: number, receivedAt: number, lines: string): void {
    if (this.#count === this.#maxRecords) this.#evict();
    const at = (this.#head + this.#count) % this.#maxRecords;
    this.#segment[at] = segment;
    this.#start[at] = start;
    this.#next[at] = next;
    this.#sinks[at] = sinks;
    this.#points[at] = points;
    this.#receivedAt[at] = receivedAt;
    this.#lines[at] = lines;
    this.#count++;
    this.#textBytes += lines.length;
    while (this.#textBytes > this.#maxTextBytes && this.#count > 1) this.#evict();
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

  linesOf(n: number): string {
    return this.#lines[(this.#head + n) % this.#maxRecords]!;
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
    this.#textBytes -= this.#lines[this.#head]!.length;
    this.#lines[this.#head] = ''; // let the string go
    this.#head = (this.#head + 1) % this.#maxRecords;
    this.#count--;
  }
}
