import { realFs, type SpoolFs } from './SpoolFs.ts';

/**
 * The one open file of the disk spool: the active segment, which records are appended to. It knows how to create,
 * reopen, write and close a segment file so that the file always ends on a record boundary; what to do when the
 * disk is full (drop, refuse) is the spool's policy, not this file's.
 */
export class ActiveSegmentFile {
  #fd = -1;
  readonly #fs: SpoolFs;

  constructor(fs: SpoolFs = realFs) {
    this.#fs = fs;
  }

  /** The descriptor (-1 when none is open): GroupSync fdatasyncs it. */
  get fd(): number {
    return this.#fd;
  }

  /** After a restart, goes on appending to the newest segment. */
  reopen(file: string): void {
    this.#fd = this.#fs.openSync(file, 'r+');
  }

  /** Creates a new segment file holding `header`. Throws (ENOSPC…) with no file left behind. */
  create(file: string, header: Buffer): void {
    const fd = this.#fs.openSync(file, 'w');
    try {
      if (this.#fs.writeSync(fd, header, 0, header.length, 0) !== header.length) throw shortWrite('a segment header');
    } catch (error) {
      this.#fs.closeSync(fd);
      this.#fs.rmSync(file, { force: true });
      throw error;
    }
    this.#fd = fd;
  }

  /**
   * Writes `data` at `offset` (positional: after a failed write was cut off, the next one lands exactly at the end
   * of the valid data). All of it, or it throws having cut off whatever part reached the file.
   */
  write(data: Buffer, offset: number): void {
    try {
      const n = this.#fs.writeSync(this.#fd, data, 0, data.length, offset);
      if (n !== data.length) throw shortWrite(`${n} of ${data.length} bytes`);
    } catch (error) {
      try {
        this.#fs.ftruncateSync(this.#fd, offset);
      } catch {
        // the next start-up's recovery cuts the torn tail
      }
      throw error;
    }
  }

  /** Cuts the file back to `length` bytes (a fully delivered segment freed on a full disk). */
  truncate(length: number): void {
    if (this.#fd >= 0) this.#fs.ftruncateSync(this.#fd, length);
  }

  /** fdatasyncs and closes the file (sealing a segment, or closing the spool); true when it was open. */
  close(): boolean {
    if (this.#fd < 0) return false;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      this.#fs.fdatasyncSync(fd);
    } finally {
      this.#fs.closeSync(fd);
    }
    return true;
  }
}

/** A write that stopped short: the disk is full, as far as anyone can tell. */
function shortWrite(what: string): Error {
  return Object.assign(new Error(`short write (${what})`), { code: 'ENOSPC' });
}
