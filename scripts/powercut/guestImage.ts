/**
 * Builds and caches the guest: Debian's cloud kernel, a small initramfs (busybox + virtio modules) and a
 * read-only ext4 root disk (made with `mkfs.ext4 -d`, no loop device) holding busybox, Node 24, the built gateway
 * with its production dependencies, Mosquitto and Redis (the host's binaries and the libraries they link).
 * Everything is keyed by a hash of its inputs, so a rebuilt dist/ gives a new root image and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpioArchive, type CpioEntry } from './cpio.ts';
import { initramfsInit, mosquittoConf, passwd, rootInit, VIRTIO_MODULES } from './guestFiles.ts';

export interface GuestImage {
  kernel: string;
  initramfs: string;
  rootDisk: string;
  kernelVersion: string;
}

const run = (cmd: string, args: string[], cwd?: string): string => execFileSync(cmd, args, { cwd, encoding: 'utf8' });

export function cacheDir(): string {
  return process.env.EDGEBRIDGE_POWERCUT_CACHE ?? path.join(os.homedir(), '.cache', 'edgebridge-powercut');
}

/** The cloud kernel the `linux-image-cloud-amd64` meta-package points at, unpacked once into the cache. */
function kernelDir(cache: string, log: (s: string) => void): { dir: string; version: string } {
  const existing = fs.readdirSync(cache).find((d) => d.startsWith('kernel-') && fs.existsSync(path.join(cache, d, '.complete')));
  if (existing) return { dir: path.join(cache, existing), version: existing.slice('kernel-'.length) };
  const depends = run('apt-cache', ['depends', 'linux-image-cloud-amd64']);
  const pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(depends)?.[1];
  if (!pkg) throw new Error(`powercut: no kernel package behind linux-image-cloud-amd64:\n${depends}`);
  const version = pkg.slice('linux-image-'.length);
  log(`fetching kernel ${pkg}`);
  const dir = path.join(cache, `kernel-${version}`);
  const work = fs.mkdtempSync(path.join(cache, 'kernel-work-'));
  try {
    run('apt-get', ['download', '-qq', '-o', 'APT::Sandbox::User=root', pkg], work);
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`powercut: apt-get download ${pkg} gave no .deb`);
    run('dpkg', ['-x', deb, 'x'], work);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'modules'), { recursive: true });
    fs.copyFileSync(path.join(work, 'x', 'boot', `vmlinuz-${version}`), path.join(dir, 'vmlinuz'));
    for (const m of VIRTIO_MODULES) {
      const src = path.join(work, 'x', 'lib', 'modules', version, 'kernel', `${m}.ko`);
      fs.copyFileSync(src, path.join(dir, 'modules', `${path.basename(m)}.ko`));
    }
    fs.writeFileSync(path.join(dir, '.complete'), `${pkg}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { dir, version };
}

function buildInitramfs(kdir: string, out: string): void {
  const entries: CpioEntry[] = [
    { name: 'bin', kind: 'dir' },
    { name: 'bin/busybox', kind: 'file', data: fs.readFileSync('/bin/busybox') },
    { name: 'lib', kind: 'dir' },
    { name: 'lib/modules', kind: 'dir' },
    ...VIRTIO_MODULES.map((m): CpioEntry => {
      const file = `${path.basename(m)}.ko`;
      return { name: `lib/modules/${file}`, kind: 'file', mode: 0o644, data: fs.readFileSync(path.join(kdir, 'modules', file)) };
    }),
    { name: 'init', kind: 'file', data: initramfsInit() },
  ];
  fs.writeFileSync(out, cpioArchive(entries));
}

/** Shared libraries a binary links (ldd's resolved paths). */
function sharedLibs(binary: string): string[] {
  return run('ldd', [binary])
    .split('\n')
    .map((l) => /=> (\/\S+)/.exec(l)?.[1] ?? /^\s*(\/\S+ld-linux\S*)/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** Top-level package directories of the production tree (`npm ls --omit=dev`, offline). */
function prodPackages(projectDir: string): string[] {
  const out = run('npm', ['ls', '--omit=dev', '--all', '--parseable', '--silent'], projectDir);
  const dirs = out.split('\n').filter((p) => p.includes(`${path.sep}node_modules${path.sep}`));
  const sorted = [...new Set(dirs)].sort();
  return sorted.filter((d, i) => !sorted.slice(0, i).some((p) => d.startsWith(`${p}${path.sep}`)));
}

const BINARIES = { mosquitto: '/usr/sbin/mosquitto', redis: '/usr/bin/redis-server', busybox: '/bin/busybox' } as const;

function fillRoot(stage: string, projectDir: string, nodeBinary: string): void {
  for (const d of [
    'proc',
    'sys',
    'dev',
    'tmp',
    'run',
    'data',
    'root',
    'etc',
    'sbin',
    'bin',
    'usr/bin',
    'usr/sbin',
    'opt/node/bin',
    'lib64',
    'lib/x86_64-linux-gnu',
  ]) {
    fs.mkdirSync(path.join(stage, d), { recursive: true });
  }
  fs.copyFileSync(BINARIES.busybox, path.join(stage, 'bin/busybox'));
  fs.chmodSync(path.join(stage, 'bin/busybox'), 0o755);
  for (const applet of run(BINARIES.busybox, ['--list']).split('\n').filter(Boolean)) {
    const link = path.join(stage, 'bin', applet);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.copyFileSync(BINARIES.mosquitto, path.join(stage, 'usr/sbin/mosquitto'));
  fs.copyFileSync(BINARIES.redis, path.join(stage, 'usr/bin/redis-server'));
  fs.copyFileSync(nodeBinary, path.join(stage, 'opt/node/bin/node'));
  for (const b of ['usr/sbin/mosquitto', 'usr/bin/redis-server', 'opt/node/bin/node']) fs.chmodSync(path.join(stage, b), 0o755);
  for (const lib of new Set([BINARIES.mosquitto, BINARIES.redis, nodeBinary].flatMap(sharedLibs))) {
    const dest = lib.includes('ld-linux')
      ? path.join(stage, 'lib64', path.basename(lib))
      : path.join(stage, 'lib/x86_64-linux-gnu', path.basename(lib));
    fs.copyFileSync(fs.realpathSync(lib), dest);
  }
  const sbinInit = path.join(stage, 'sbin/init');
  fs.writeFileSync(sbinInit, rootInit(), { mode: 0o755 });
  fs.writeFileSync(path.join(stage, 'etc/mosquitto.conf'), mosquittoConf());
  const { passwd: pw, group } = passwd();
  fs.writeFileSync(path.join(stage, 'etc/passwd'), pw);
  fs.writeFileSync(path.join(stage, 'etc/group'), group);
  const app = path.join(stage, 'opt/edgebridge');
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.copyFileSync(path.join(projectDir, 'package.json'), path.join(app, 'package.json'));
  fs.cpSync(path.join(projectDir, 'dist'), path.join(app, 'dist'), { recursive: true });
  const modulesRoot = path.join(projectDir, 'node_modules');
  for (const pkg of prodPackages(projectDir)) {
    fs.cpSync(fs.realpathSync(pkg), path.join(app, 'node_modules', path.relative(modulesRoot, pkg)), {
      recursive: true,
      dereference: true,
    });
  }
}

function hashTree(h: ReturnType<typeof createHash>, dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, entry.name);
    h.update(p);
    if (entry.isDirectory()) hashTree(h, p);
    else if (entry.isFile()) h.update(fs.readFileSync(p));
  }
}

/** What the root image is made of: the init scripts, dist/, the lockfile and the binaries' identities. */
function rootKey(projectDir: string, nodeBinary: string): string {
  const h = createHash('sha256');
  h.update(rootInit() + mosquittoConf() + JSON.stringify(passwd()));
  hashTree(h, path.join(projectDir, 'dist'));
  h.update(fs.readFileSync(path.join(projectDir, 'package-lock.json')));
  for (const b of [...Object.values(BINARIES), nodeBinary]) {
    const st = fs.statSync(b);
    h.update(`${b}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

export function ensureGuestImage(projectDir: string, log: (s: string) => void): GuestImage {
  const cache = cacheDir();
  fs.mkdirSync(cache, { recursive: true });
  const { dir: kdir, version } = kernelDir(cache, log);
  const initKey = createHash('sha256').update(initramfsInit()).update(version).digest('hex').slice(0, 16);
  const initramfs = path.join(cache, `initramfs-${initKey}.cpio`);
  if (!fs.existsSync(initramfs)) {
    buildInitramfs(kdir, `${initramfs}.tmp`);
    fs.renameSync(`${initramfs}.tmp`, initramfs);
  }
  const nodeBinary = fs.realpathSync(process.execPath);
  const rootDisk = path.join(cache, `root-${rootKey(projectDir, nodeBinary)}.raw`);
  if (!fs.existsSync(rootDisk)) {
    log(`building root disk ${path.basename(rootDisk)}`);
    for (const old of fs.readdirSync(cache).filter((f) => /^root-.*\.raw$/.test(f))) fs.rmSync(path.join(cache, old));
    const stage = fs.mkdtempSync(path.join(cache, 'root-stage-'));
    try {
      fillRoot(stage, projectDir, nodeBinary);
      const bytes = Number(run('du', ['-sb', stage]).split('\t')[0]);
      const sizeMiB = Math.ceil((bytes * 1.3) / 2 ** 20) + 64;
      run('mkfs.ext4', ['-q', '-F', '-L', 'ebroot', '-E', 'root_owner=0:0', '-d', stage, `${rootDisk}.tmp`, `${sizeMiB}M`]);
      fs.renameSync(`${rootDisk}.tmp`, rootDisk);
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
    }
  }
  return { kernel: path.join(kdir, 'vmlinuz'), initramfs, rootDisk, kernelVersion: version };
}

/** A fresh, empty ext4 data disk (sparse) for the spool, Mosquitto's database and Redis's AOF. */
export function makeDataDisk(file: string, sizeMiB = 512): void {
  run('mkfs.ext4', ['-q', '-F', '-L', 'ebdata', '-E', 'root_owner=0:0', file, `${sizeMiB}M`]);
}
