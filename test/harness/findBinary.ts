import fs from 'node:fs';
import path from 'node:path';

/** Where programs are looked for after PATH: Debian puts servers in sbin. */
const SYSTEM_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin'];

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An executable named `name` on PATH or in `extraDirs` (by default the usual system directories), or undefined. */
export function findBinary(name: string, extraDirs: readonly string[] = SYSTEM_DIRS): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const d of [...dirs, ...extraDirs]) {
    const candidate = path.join(d, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
