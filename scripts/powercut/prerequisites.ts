/**
 * The host tools the power-cut run needs, installed from Debian when missing (as root, like .ci/run: a temporary
 * policy-rc.d keeps apt from starting the packages' services).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const NEEDED: { file: string; pkg: string }[] = [
  { file: '/usr/bin/qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { file: '/bin/busybox', pkg: 'busybox-static' },
  { file: '/usr/sbin/mkfs.ext4', pkg: 'e2fsprogs' },
  { file: '/usr/sbin/mosquitto', pkg: 'mosquitto' },
  { file: '/usr/bin/redis-server', pkg: 'redis-server' },
];

/** A dynamically linked busybox (Debian's `busybox`) names its loader; the initramfs has no libc. */
function busyboxIsStatic(): boolean {
  const head = Buffer.alloc(4096);
  const fd = fs.openSync('/bin/busybox', 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return !head.includes('ld-linux');
}

export function ensurePrerequisites(log: (line: string) => void): void {
  const missing = NEEDED.filter((n) => !fs.existsSync(n.file)).map((n) => n.pkg);
  if (fs.existsSync('/bin/busybox') && !busyboxIsStatic()) missing.push('busybox-static');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `powercut: missing ${missing.join(', ')}: run as root, or: apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  log(`installing ${missing.join(' ')}`);
  const policy = '/usr/sbin/policy-rc.d';
  const created = !fs.existsSync(policy);
  if (created) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } finally {
    if (created) fs.rmSync(policy, { force: true });
  }
}
