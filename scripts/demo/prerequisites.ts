/** The demo's servers: installed with apt-get when missing (as root), each started in a session of its own. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findBinary } from '../../test/harness/index.ts';

const out = (line = ''): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

const REQUIRED = [
  { binary: 'mosquitto', pkg: 'mosquitto' },
  { binary: 'redis-server', pkg: 'redis-server' },
  { binary: 'victoria-metrics', pkg: 'victoria-metrics' },
] as const;

export function ensurePrerequisites(): { mosquitto: string; redis: string; vm: string } {
  const missing = () => REQUIRED.filter((r) => findBinary(r.binary) === undefined);
  let gone = missing();
  if (gone.length > 0) {
    const names = gone.map((r) => r.binary).join(', ');
    const installCmd = 'apt-get update && apt-get install -y mosquitto redis-server victoria-metrics';
    const isRoot = process.getuid?.() === 0;
    const aptGet = findBinary('apt-get');
    if (isRoot && aptGet !== undefined) {
      out(`demo: ${names} not found; installing with: ${installCmd}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const update = spawnSync(aptGet, ['update'], { stdio: 'inherit', env });
      const install =
        update.status === 0
          ? spawnSync(aptGet, ['install', '-y', 'mosquitto', 'redis-server', 'victoria-metrics'], { stdio: 'inherit', env })
          : update;
      gone = missing();
      if (install.status !== 0 || gone.length > 0) {
        err(`demo: the installation failed (${gone.map((r) => r.binary).join(', ') || 'apt-get error'}).`);
        err(`demo: install them yourself and run the demo again:\n  ${installCmd}`);
        process.exit(1);
      }
    } else {
      err(`demo: missing ${names}: the demo runs its own private Mosquitto, Redis and VictoriaMetrics.`);
      err(`demo: install them (Debian/Ubuntu) and run the demo again:`);
      err(`  sudo apt-get update && sudo apt-get install -y ${gone.map((r) => r.pkg).join(' ')}`);
      process.exit(1);
    }
  }
  return {
    mosquitto: findBinary('mosquitto') as string,
    redis: findBinary('redis-server') as string,
    vm: findBinary('victoria-metrics') as string,
  };
}

/**
 * The harness spawns servers in our process group, so a Ctrl-C in the terminal would reach them
 * directly and they would be gone before the final check. A tiny wrapper puts each server in a
 * session of its own (`setsid` execs in place: same pid, `setpriv --pdeathsig` still applies);
 * the demo stops them itself.
 */
export function sessionWrapper(dir: string, binary: string): string {
  const setsid = findBinary('setsid');
  if (setsid === undefined) return binary;
  const file = path.join(dir, path.basename(binary));
  fs.writeFileSync(file, `#!/bin/sh\nexec ${setsid} ${binary} "$@"\n`, { mode: 0o755 });
  return file;
}
