import nodeFs from 'node:fs';
import path from 'node:path';
import type { SpoolFs } from '../../../src/spool/disk/SpoolFs.ts';

/**
 * What a filesystem is asked to change, in order: the log a power cut picks from. Data ops name the inode (they
 * follow the file through renames), directory ops the directory whose entry they change; `fdatasync` makes an
 * inode's earlier data ops durable, `fsyncDir` a directory's earlier entry changes.
 */
export type FsOp =
  | { readonly kind: 'create'; readonly file: string; readonly ino: number }
  | { readonly kind: 'write'; readonly ino: number; readonly offset: number; readonly data: Buffer }
  | { readonly kind: 'truncate'; readonly ino: number; readonly length: number }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; readonly ino: number }
  | { readonly kind: 'unlink'; readonly file: string; readonly ino: number }
  | { readonly kind: 'fdatasync'; readonly ino: number }
  | { readonly kind: 'fsyncDir'; readonly dir: string };

type Open = { readonly kind: 'file'; readonly ino: number; position: number } | { readonly kind: 'dir'; readonly dir: string };

function fsError(code: string, syscall: string, file?: string): NodeJS.ErrnoException {
  // No stack: the spool expects many of these (a missing checkpoint) and a stack is most of their cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = Object.assign(new Error(`${code}: ${syscall}${file === undefined ? '' : ` '${file}'`}`), { code, syscall, path: file });
  Error.stackTraceLimit = limit;
  return error;
}

/**
 * A filesystem in memory with the calls the disk spool makes (`SpoolFs`), logging every change (`ops`) so that
 * the crash-state explorer can build what a power cut could leave. The async calls complete on `setImmediate`.
 * Directories are a set of paths (made at once and durable: the spool makes its own at start).
 */
export class MemoryFs {
  readonly ops: FsOp[] = [];
  /** Logging on (the workload) or off (a crash state being checked). */
  recording: boolean;
  readonly #dirs = new Set<string>(['/']);
  readonly #names = new Map<string, number>();
  readonly #inodes = new Map<number, Buffer>();
  readonly #fds = new Map<number, Open>();
  #nextIno = 1;
  #nextFd = 100;

  /** A disk that lies: fdatasync returns without making anything durable (the explorer's own test). */
  readonly #lying: boolean;

  constructor(recording = true, options: { lyingFdatasync?: boolean } = {}) {
    this.recording = recording;
    this.#lying = options.lyingFdatasync ?? false;
  }

  /** The file names and contents (a snapshot, for building crash states and for checks). */
  files(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [name, ino] of this.#names) out.set(name, this.#inodes.get(ino)!);
    return out;
  }

  dirs(): string[] {
    return [...this.#dirs];
  }

  /** A filesystem holding exactly these directories and files (a crash state), not recording. */
  static holding(dirs: Iterable<string>, files: Iterable<readonly [string, Buffer]>): MemoryFs {
    const fs = new MemoryFs(false);
    for (const d of dirs) fs.#dirs.add(d);
    for (const [name, data] of files) {
      const ino = fs.#nextIno++;
      fs.#inodes.set(ino, Buffer.from(data));
      fs.#names.set(name, ino);
    }
    return fs;
  }

  /** The SpoolFs view of this filesystem. */
  get api(): SpoolFs {
    const api = {
      constants: nodeFs.constants,
      openSync: (file: string, flags: string) => this.#open(file, flags),
      closeSync: (fd: number) => {
        if (!this.#fds.delete(fd)) throw fsError('EBADF', 'close');
      },
      writeSync: (fd: number, data: Buffer | string, offset?: number, length?: number, position?: number | null) => {
        const f = this.#file(fd, 'write');
        const buf =
          typeof data === 'string'
            ? Buffer.from(data, 'utf8')
            : data.subarray(offset ?? 0, (offset ?? 0) + (length ?? data.length - (offset ?? 0)));
        const at = typeof position === 'number' ? position : f.position;
        this.#write(f.ino, at, buf);
        if (typeof position !== 'number') f.position = at + buf.length;
        return buf.length;
      },
      readSync: (fd: number, buf: Buffer, offset: number, length: number, position: number) => {
        const data = this.#inodes.get(this.#file(fd, 'read').ino)!;
        if (position >= data.length) return 0;
        return data.copy(buf, offset, position, Math.min(data.length, position + length));
      },
      fdatasyncSync: (fd: number) => this.#sync(fd),
      fsyncSync: (fd: number) => this.#sync(fd),
      fdatasync: (fd: number, cb: (error: NodeJS.ErrnoException | null) => void) => {
        let error: NodeJS.ErrnoException | null = null;
        try {
          this.#sync(fd);
        } catch (e) {
          error = e as NodeJS.ErrnoException;
        }
        setImmediate(() => cb(error));
      },
      ftruncateSync: (fd: number, length = 0) => this.#truncate(this.#file(fd, 'ftruncate').ino, length),
      fstatSync: (fd: number) => ({ size: this.#inodes.get(this.#file(fd, 'fstat').ino)!.length }),
      statSync: (file: string) => {
        if (this.#dirs.has(file)) return { size: 0, isDirectory: () => true, isFile: () => false };
        const ino = this.#names.get(file);
        if (ino === undefined) throw fsError('ENOENT', 'stat', file);
        return { size: this.#inodes.get(ino)!.length, isDirectory: () => false, isFile: () => true };
      },
      unlinkSync: (file: string) => this.#unlink(file),
      rmSync: (file: string, options?: { force?: boolean }) => {
        if (this.#names.has(file)) this.#unlink(file);
        else if (!options?.force) throw fsError('ENOENT', 'rm', file);
      },
      renameSync: (from: string, to: string) => this.#rename(from, to),
      rename: (from: string, to: string, cb: (error: NodeJS.ErrnoException | null) => void) => {
        let error: NodeJS.ErrnoException | null = null;
        try {
          this.#rename(from, to);
        } catch (e) {
          error = e as NodeJS.ErrnoException;
        }
        setImmediate(() => cb(error));
      },
      readdirSync: (dir: string) => {
        if (!this.#dirs.has(dir)) throw fsError('ENOENT', 'scandir', dir);
        const names: string[] = [];
        for (const name of this.#names.keys()) if (path.dirname(name) === dir) names.push(path.basename(name));
        for (const d of this.#dirs) if (d !== dir && path.dirname(d) === dir) names.push(path.basename(d));
        return names.sort();
      },
      mkdirSync: (dir: string) => {
        for (let d = dir; d !== '/' && !this.#dirs.has(d); d = path.dirname(d)) this.#dirs.add(d);
        return undefined;
      },
      accessSync: (file: string) => {
        if (!this.#dirs.has(file) && !this.#names.has(file)) throw fsError('ENOENT', 'access', file);
      },
      readFileSync: (file: string, encoding?: BufferEncoding) => {
        const ino = this.#names.get(file);
        if (ino === undefined) throw fsError(this.#dirs.has(file) ? 'EISDIR' : 'ENOENT', 'open', file);
        const data = Buffer.from(this.#inodes.get(ino)!);
        return encoding === undefined ? data : data.toString(encoding);
      },
      writeFileSync: (file: string, data: string | Buffer) => this.#writeFile(file, data),
      writeFile: (file: string, data: string | Buffer, cb: (error: NodeJS.ErrnoException | null) => void) => {
        let error: NodeJS.ErrnoException | null = null;
        try {
          this.#writeFile(file, data);
        } catch (e) {
          error = e as NodeJS.ErrnoException;
        }
        setImmediate(() => cb(error));
      },
    };
    return api as unknown as SpoolFs;
  }

  #log(op: FsOp): void {
    if (this.recording) this.ops.push(op);
  }

  #open(file: string, flags: string): number {
    const fd = this.#nextFd++;
    if (this.#dirs.has(file)) {
      if (flags !== 'r') throw fsError('EISDIR', 'open', file);
      this.#fds.set(fd, { kind: 'dir', dir: file });
      return fd;
    }
    if (!this.#dirs.has(path.dirname(file))) throw fsError('ENOENT', 'open', file);
    let ino = this.#names.get(file);
    if (flags === 'wx' && ino !== undefined) throw fsError('EEXIST', 'open', file);
    if (flags === 'w' || flags === 'wx') {
      if (ino === undefined) ino = this.#create(file);
      else this.#truncate(ino, 0);
    } else if (ino === undefined) throw fsError('ENOENT', 'open', file);
    this.#fds.set(fd, { kind: 'file', ino, position: 0 });
    return fd;
  }

  #file(fd: number, syscall: string): Extract<Open, { kind: 'file' }> {
    const f = this.#fds.get(fd);
    if (f === undefined) throw fsError('EBADF', syscall);
    if (f.kind !== 'file') throw fsError('EISDIR', syscall);
    return f;
  }

  #create(file: string): number {
    const ino = this.#nextIno++;
    this.#inodes.set(ino, Buffer.alloc(0));
    this.#names.set(file, ino);
    this.#log({ kind: 'create', file, ino });
    return ino;
  }

  #write(ino: number, offset: number, data: Buffer): void {
    const old = this.#inodes.get(ino)!;
    const end = Math.max(old.length, offset + data.length);
    const next = end === old.length ? old : Buffer.concat([old, Buffer.alloc(end - old.length)]);
    data.copy(next, offset);
    this.#inodes.set(ino, next);
    this.#log({ kind: 'write', ino, offset, data: Buffer.from(data) });
  }

  #truncate(ino: number, length: number): void {
    const old = this.#inodes.get(ino)!;
    this.#inodes.set(
      ino,
      length <= old.length ? Buffer.from(old.subarray(0, length)) : Buffer.concat([old, Buffer.alloc(length - old.length)]),
    );
    this.#log({ kind: 'truncate', ino, length });
  }

  #sync(fd: number): void {
    const f = this.#fds.get(fd);
    if (f === undefined) throw fsError('EBADF', 'fsync');
    if (f.kind === 'dir') this.#log({ kind: 'fsyncDir', dir: f.dir });
    else if (!this.#lying) this.#log({ kind: 'fdatasync', ino: f.ino });
  }

  #unlink(file: string): void {
    const ino = this.#names.get(file);
    if (ino === undefined) throw fsError('ENOENT', 'unlink', file);
    this.#names.delete(file);
    this.#log({ kind: 'unlink', file, ino });
  }

  #rename(from: string, to: string): void {
    const ino = this.#names.get(from);
    if (ino === undefined) throw fsError('ENOENT', 'rename', from);
    if (!this.#dirs.has(path.dirname(to))) throw fsError('ENOENT', 'rename', to);
    this.#names.delete(from);
    this.#names.set(to, ino);
    this.#log({ kind: 'rename', from, to, ino });
  }

  #writeFile(file: string, data: string | Buffer): void {
    const fd = this.#open(file, 'w');
    const f = this.#file(fd, 'write');
    this.#write(f.ino, 0, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    this.#fds.delete(fd);
  }
}
