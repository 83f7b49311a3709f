import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors/ConfigError.ts';

/** `spool.json` holds the spool's random identity; a new (or wiped) spool directory gets a new one. */
export function loadOrCreateOrigin(dir: string): string {
  const file = path.join(dir, 'spool.json');
  try {
    const id = (JSON.parse(fs.readFileSync(file, 'utf8')) as { origin?: unknown }).origin;
    if (typeof id === 'string' && id !== '') return id;
  } catch {
    // missing or unreadable: a new identity (positions are then not compared with older ones)
  }
  const origin = randomUUID();
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ origin, version: 1 }));
  fs.renameSync(`${file}.tmp`, file);
  return origin;
}

/** Makes a new file's directory entry durable (a segment created just before a power cut must not vanish). */
export function syncDir(dir: string): void {
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
export function prepareSpoolDirectory(dir: string, segmentsDir: string): void {
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
