import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../../errors/ConfigError.ts';
import { FORMAT_VERSION } from './segmentFile.ts';
import type { SpoolFs } from './SpoolFs.ts';

/**
 * `spool.json` holds the spool's random identity and the on-disk format version; a new (or wiped) spool directory
 * gets a new identity. A version-1 directory (before the sync marker) keeps its identity: its segments are read in
 * their own format, and the file is rewritten with the current version.
 */
export function loadOrCreateOrigin(fs: SpoolFs, dir: string): string {
  const file = path.join(dir, 'spool.json');
  let origin: string | undefined;
  let version: unknown;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { origin?: unknown; version?: unknown };
    if (typeof raw.origin === 'string' && raw.origin !== '') origin = raw.origin;
    version = raw.version;
  } catch (error) {
    if (isDeploymentError(error)) throw spoolFileError(error, file);
    // missing or unreadable: a new identity (positions are then not compared with older ones)
  }
  if (origin !== undefined && version === FORMAT_VERSION) return origin;
  origin ??= randomUUID();
  try {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ origin, version: FORMAT_VERSION }));
    fs.renameSync(`${file}.tmp`, file);
  } catch (error) {
    if (isDeploymentError(error)) throw spoolFileError(error, file);
    throw error;
  }
  return origin;
}

/** Makes a new file's directory entry durable (a segment created just before a power cut must not vanish). */
export function syncDir(fs: SpoolFs, dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; the segment itself is still written
  }
}

/**
 * Creates `segments/` and `cursors/` and checks they are writable. A directory the gateway cannot use is a
 * deployment mistake, not a crash to retry: a ConfigError makes the process exit 78, so systemd does not
 * restart-loop.
 */
export function prepareSpoolDirectory(fs: SpoolFs, dir: string, segmentsDir: string): void {
  try {
    fs.mkdirSync(segmentsDir, { recursive: true });
    fs.mkdirSync(path.join(dir, 'cursors'), { recursive: true });
    fs.accessSync(segmentsDir, fs.constants.W_OK);
  } catch (error) {
    throw new ConfigError({
      key: 'spool.dir',
      value: dir,
      problem: `cannot be created or written (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      expected: 'a directory the gateway can create and write (systemd: StateDirectory=edgebridge)',
      fix: 'set EDGEBRIDGE_SPOOL_DIR or "spool.dir" in the config file, or give the service user write access',
      cause: error,
    });
  }
}

/** Errors that retrying cannot fix: a file the service user may not open, or a directory where a file belongs. */
const DEPLOYMENT_CODES = new Set(['EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS']);

export function isDeploymentError(error: unknown): error is NodeJS.ErrnoException {
  return DEPLOYMENT_CODES.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

/** The exit-78 message for a file inside the spool directory the gateway cannot use: names the path and the fix. */
export function spoolFileError(error: NodeJS.ErrnoException, fallbackPath: string): ConfigError {
  const file = error.path ?? fallbackPath;
  const code = error.code ?? 'EIO';
  const isDir = code === 'EISDIR' || code === 'ENOTDIR';
  return new ConfigError({
    key: 'spool.dir',
    subject: `spool file "${file}"`,
    problem: isDir
      ? `${code}: a directory stands where the spool keeps a file (or a file where it needs a directory)`
      : `${code}: the service user cannot open it`,
    expected: 'files in spool.dir that the gateway owns and can read and write',
    fix: isDir
      ? `move "${file}" out of the spool directory`
      : `give the service user access (e.g. chown -R <user> "${path.dirname(file)}", and chattr -i if it is immutable), or point EDGEBRIDGE_SPOOL_DIR elsewhere`,
    cause: error,
  });
}
