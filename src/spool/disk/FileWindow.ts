import type { SpoolFs } from './SpoolFs.ts';

const CHUNK = 1 << 20;

/**
 * A window of a file read into one reusable buffer: `at(pos, need)` makes it cover `[pos, pos + need)` (less at
 * `end`) and returns the buffer index of `pos`. Start-up scans and resynchronisation read through it in 1 MiB
 * chunks; a record larger than the window grows it.
 */
export class FileWindow {
  buf: Buffer;
  /** File offset of `buf[0]`. */
  start = 0;
  /** Valid bytes in `buf`. */
  length = 0;
  readonly #fs: SpoolFs;
  readonly #fd: number;
  readonly #end: number;

  constructor(fs: SpoolFs, fd: number, end: number, chunk = CHUNK) {
    this.#fs = fs;
    this.#fd = fd;
    this.#end = end;
    // A small file (a new segment, a state checked by the crash explorer) needs no 1 MiB buffer: `at` grows it.
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunk, end)));
  }

  at(pos: number, need: number): number {
    const want = Math.min(need, this.#end - pos);
    if (pos >= this.start && pos + want <= this.start + this.length) return pos - this.start;
    if (want > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(want, this.buf.length * 2));
    const length = Math.min(this.buf.length, this.#end - pos);
    let got = 0;
    while (got < length) {
      const n = this.#fs.readSync(this.#fd, this.buf, got, length - got, pos + got);
      if (n <= 0) break;
      got += n;
    }
    this.start = pos;
    this.length = got;
    return 0;
  }
}
