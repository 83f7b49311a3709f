import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors/ConfigError.ts';

/**
 * What `check-config` can tell about `spool.dir` without touching it: the directory must be writable, or its
 * nearest existing ancestor must be (the gateway creates the rest at start). Otherwise the service would pass the
 * check and then exit 78 at start.
 */
export function checkSpoolDir(dir: string, fsApi: Pick<typeof fs, 'accessSync' | 'statSync'> = fs): void {
  const fail = (problem: string): ConfigError =>
    new ConfigError({
      key: 'spool.dir',
      value: dir,
      problem,
      expected: 'a writable directory (or one that can be created)',
      fix: 'set EDGEBRIDGE_SPOOL_DIR or "spool.dir" in the config file, or fix the directory\'s owner and mode (systemd: StateDirectory=)',
    });
  let at = path.resolve(dir);
  for (;;) {
    let stat: fs.Stats;
    try {
      stat = fsApi.statSync(at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && path.dirname(at) !== at) {
        at = path.dirname(at);
        continue;
      }
      throw fail(`${at} cannot be examined (${code ?? String(error)})`);
    }
    if (!stat.isDirectory()) throw fail(`${at === path.resolve(dir) ? 'it' : at} is not a directory`);
    try {
      fsApi.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw fail(
        at === path.resolve(dir) ? `is not writable (${code})` : `does not exist and ${at} is not writable to create it (${code})`,
      );
    }
    return;
  }
}
