/** Pieces shorter than this are copied by a loop: a native call costs more than copying a few dozen bytes. */
const NATIVE_COPY_BYTES = 64;

/**
 * A growable buffer that JSON text is written into byte by byte, from the batch's own bytes and from pieces
 * prepared once (keys, tags). The result lives outside the JS heap and goes to the socket as it is: no string per
 * entry, no rope of concatenations for the garbage collector, no UTF-8 encoding of a megabyte string by ioredis.
 */
export class ByteWriter {
  buf: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 256));
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.length + n, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** Two bytes at once: the `","` and `],` joints of the JSON. */
  byte2(a: number, b: number): void {
    this.reserve(2);
    const buf = this.buf;
    buf[this.length] = a;
    buf[this.length + 1] = b;
    this.length += 2;
  }

  /** Copies `source[start, end)`. */
  copy(source: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    const buf = this.buf;
    if (n >= NATIVE_COPY_BYTES) {
      buf.set(source.subarray(start, end), this.length);
      this.length += n;
      return;
    }
    let at = this.length;
    for (let i = start; i < end; i++) buf[at++] = source[i]!;
    this.length = at;
  }

  /** Copies a prepared piece whole. */
  piece(source: Uint8Array): void {
    this.copy(source, 0, source.length);
  }

  /** An ASCII string (digits, prepared names): one byte per character. */
  ascii(s: string): void {
    this.reserve(s.length);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** Any string, UTF-8 encoded (the slow path: strings with escapes). */
  utf8(s: string): void {
    this.reserve(Buffer.byteLength(s, 'utf8'));
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /** What was written (a view: the writer is not used after). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
