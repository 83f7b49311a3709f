import nodeFs from 'node:fs';

/**
 * The filesystem calls the disk spool makes, and nothing else: injected so that ENOSPC, EIO, EACCES, short and
 * torn writes are ordinary unit tests (wrap `realFs` and replace one call), without root or a tmpfs.
 * `pwrite`/`pread` are `writeSync`/`readSync` with a position; the directory fsync is `openSync(dir)` + `fsyncSync`.
 */
export type SpoolFs = Pick<
  typeof nodeFs,
  | 'openSync'
  | 'closeSync'
  | 'writeSync'
  | 'readSync'
  | 'fdatasyncSync'
  | 'fdatasync'
  | 'fsyncSync'
  | 'ftruncateSync'
  | 'fstatSync'
  | 'statSync'
  | 'unlinkSync'
  | 'renameSync'
  | 'readdirSync'
  | 'mkdirSync'
  | 'accessSync'
  | 'readFileSync'
  | 'writeFileSync'
  | 'rmSync'
  | 'writeFile'
  | 'rename'
  | 'constants'
>;

/** The real filesystem: the default everywhere. */
export const realFs: SpoolFs = nodeFs;
