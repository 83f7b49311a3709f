import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors/ConfigError.ts';
import type { SpoolFs } from './SpoolFs.ts';

export interface SpoolLockOptions {
  readonly fs: SpoolFs;
  readonly dir: string;
  readonly pid?: number;
  /** Whether a process runs: `process.kill(pid, 0)` by default (EPERM = it runs under another user). */
  readonly isAlive?: (pid: number) => boolean;
  /** Start time of a process (field 22 of /proc/PID/stat), so a PID reused after a reboot is not taken for the holder. */
  readonly startTimeOf?: (pid: number) => string | undefined;
}

/**
 * One gateway per spool directory: `spool.dir/lock` is created exclusively (O_EXCL) and holds the owner's PID and
 * start time. Node has no flock(2); the exclusive create is the lock, and a lock file whose process is gone (a
 * SIGKILL, a power cut) is stale and taken over. A second instance fails with exit 78 naming the holder's PID:
 * two writers on one directory overwrite each other's acknowledged records.
 */
export class SpoolLock {
  readonly #o: SpoolLockOptions;
  readonly #file: string;
  #held = false;

  constructor(options: SpoolLockOptions) {
    this.#o = options;
    this.#file = path.join(options.dir, 'lock');
  }

  acquire(): void {
    const pid = this.#o.pid ?? process.pid;
    const content = JSON.stringify({ pid, startTime: this.#startTime(pid) ?? null });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = this.#o.fs.openSync(this.#file, 'wx', 0o644);
        try {
          this.#o.fs.writeSync(fd, content);
        } finally {
          this.#o.fs.closeSync(fd);
        }
        this.#held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = this.#readHolder();
      if (holder !== undefined && holder.pid !== pid && this.#isHeldBy(holder)) {
        throw new ConfigError({
          key: 'spool.dir',
          value: this.#o.dir,
          problem: `is in use by another edgebridge process (PID ${holder.pid}, lock file ${this.#file})`,
          expected: 'one gateway per spool directory',
          fix: `stop process ${holder.pid}, or give this instance its own EDGEBRIDGE_SPOOL_DIR / "spool.dir"`,
        });
      }
      // Stale (its process is gone), our own PID (a restart in the same PID namespace), or unreadable: take it over.
      try {
        this.#o.fs.unlinkSync(this.#file);
      } catch {
        // another starter removed it first: try again
      }
    }
    throw new ConfigError({
      key: 'spool.dir',
      value: this.#o.dir,
      problem: `its lock file ${this.#file} could not be taken`,
      expected: 'one gateway per spool directory',
      fix: 'make sure no other edgebridge uses this directory, then remove the lock file',
    });
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      this.#o.fs.unlinkSync(this.#file);
    } catch {
      // already gone
    }
  }

  #readHolder(): { pid: number; startTime: string | null } | undefined {
    try {
      const raw = JSON.parse(this.#o.fs.readFileSync(this.#file, 'utf8')) as { pid?: unknown; startTime?: unknown };
      if (Number.isSafeInteger(raw.pid) && (raw.pid as number) > 0)
        return { pid: raw.pid as number, startTime: typeof raw.startTime === 'string' ? raw.startTime : null };
    } catch {
      // empty (killed between create and write) or garbage: stale
    }
    return undefined;
  }

  #isHeldBy(holder: { pid: number; startTime: string | null }): boolean {
    if (!(this.#o.isAlive ?? isAlive)(holder.pid)) return false;
    const now = this.#startTime(holder.pid);
    return holder.startTime === null || now === undefined || now === holder.startTime;
  }

  #startTime(pid: number): string | undefined {
    return (this.#o.startTimeOf ?? procStartTime)(pid);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procStartTime(pid: number): string | undefined {
  try {
    // The comm field may hold spaces and parentheses: count fields after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
