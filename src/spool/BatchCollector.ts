import type { Batch } from './Batch.ts';

const NEWLINE = 0x0a;
const MIN_CAPACITY = 4096;
/** A first guess beyond this is not trusted: the buffer grows (doubling) if the batch really is larger. */
const MAX_FIRST_CAPACITY = 1 << 20;

/**
 * Gathers the entries one cursor read into a Batch; shared by the memory and the disk cursor. The text is copied
 * into one buffer as it comes (bytes from the disk spool, strings from the memory spool), each entry followed by
 * '\n': the batch's `text` is then the InfluxDB request body as it is.
 */
export class BatchCollector {
  readonly ends: number[] = [];
  readonly positions: number[] = [];
  points = 0;
  bytes = 0;
  #text: Buffer;
  #length = 0;
  #first = 0;
  #last = 0;

  /** `expectedBytes`: about how much text will come (the cursor's backlog), to size the buffer once. */
  constructor(expectedBytes = 0) {
    this.#text = Buffer.allocUnsafe(Math.min(Math.max(expectedBytes, MIN_CAPACITY), MAX_FIRST_CAPACITY));
  }

  /** Adds an entry whose text is `source[start, end)` (UTF-8): copied, so the source may be reused. */
  addBytes(source: Buffer, start: number, end: number, position: number, points: number, bytes: number, receivedAt: number): void {
    const at = this.#reserve(end - start + 1);
    source.copy(this.#text, at, start, end);
    this.#endEntry(at + end - start, position, points, bytes, receivedAt);
  }

  /** Adds an entry given as a string. */
  addText(lines: string, position: number, points: number, bytes: number, receivedAt: number): void {
    const at = this.#reserve(Buffer.byteLength(lines, 'utf8') + 1);
    const written = this.#text.write(lines, at, 'utf8');
    this.#endEntry(at + written, position, points, bytes, receivedAt);
  }

  /** Whether another entry may join under these limits (the first always may). */
  hasRoom(limits: { readonly maxPoints: number; readonly maxBytes: number }): boolean {
    return this.points < limits.maxPoints && this.bytes < limits.maxBytes;
  }

  /** The batch, or undefined when nothing was added. */
  build(origin: string, end: number): Batch | undefined {
    if (this.ends.length === 0) return undefined;
    return {
      text: this.#text.subarray(0, this.#length),
      ends: this.ends,
      positions: this.positions,
      origin,
      points: this.points,
      bytes: this.bytes,
      firstReceivedAt: this.#first,
      lastReceivedAt: this.#last,
      end,
    };
  }

  /** Makes room for `n` more bytes; returns where they go. */
  #reserve(n: number): number {
    const at = this.#length;
    if (at + n > this.#text.length) {
      const grown = Buffer.allocUnsafe(Math.max(at + n, this.#text.length * 2));
      this.#text.copy(grown, 0, 0, at);
      this.#text = grown;
    }
    return at;
  }

  #endEntry(textEnd: number, position: number, points: number, bytes: number, receivedAt: number): void {
    this.#text[textEnd] = NEWLINE;
    this.#length = textEnd + 1;
    if (this.ends.length === 0) this.#first = receivedAt;
    this.#last = receivedAt;
    this.ends.push(textEnd);
    this.positions.push(position);
    this.points += points;
    this.bytes += bytes;
  }
}
