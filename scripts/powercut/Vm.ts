/**
 * One boot of the guest under qemu's software emulation (/dev/kvm here cannot run Debian's kernels), with user
 * networking: the host reaches the guest's broker, Redis and the gateway's HTTP port through hostfwd on free
 * loopback ports, and the guest reaches the host at 10.0.2.2. `cut()` is the power cut: SIGKILL of qemu, so the
 * guest's page cache and everything in its RAM die at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestImage } from './guestImage.ts';

/**
 * The guest's flushes are not passed on to the host's disk: the host's page cache is the "medium" that survives
 * the cut (qemu's writes are in it when qemu dies), so a host fdatasync per guest flush proves nothing and only
 * slows every fsync down. The guest still sees a volatile write cache and flushes it.
 */
const NO_HOST_FLUSH = { 'no-flush': true };

export interface VmPorts {
  mqtt: number;
  redis: number;
  http: number;
}

export interface VmOptions {
  image: GuestImage;
  dataDisk: string;
  /** With a path: the data disk goes through qemu's blklogwrites driver, which logs every write and flush there. */
  writeLog?: string;
  ports: VmPorts;
  console: string;
  /** Kernel command line settings read by the guest's init (`eb.ack=fsync` …). */
  settings: Record<string, string | number>;
  memoryMiB?: number;
}

export class Vm {
  readonly #opts: VmOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  startedAt = 0;

  constructor(opts: VmOptions) {
    this.#opts = opts;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  args(): string[] {
    const o = this.#opts;
    const settings = Object.entries(o.settings).map(([k, v]) => `eb.${k}=${v}`);
    const fwd = [`tcp:127.0.0.1:${o.ports.mqtt}-:1883`, `tcp:127.0.0.1:${o.ports.redis}-:6379`, `tcp:127.0.0.1:${o.ports.http}-:8080`];
    const data = o.writeLog
      ? JSON.stringify({
          driver: 'blklogwrites',
          'node-name': 'data',
          file: { driver: 'file', filename: o.dataDisk, cache: NO_HOST_FLUSH },
          log: { driver: 'file', filename: o.writeLog, cache: NO_HOST_FLUSH },
          'log-sector-size': 512,
        })
      : JSON.stringify({ driver: 'raw', 'node-name': 'data', file: { driver: 'file', filename: o.dataDisk, cache: NO_HOST_FLUSH } });
    return [
      ...['-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', String(o.memoryMiB ?? 512)],
      ...['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot'],
      ...['-kernel', o.image.kernel, '-initrd', o.image.initramfs],
      // no_timer_check: on a starved host the emulated kernel's timer check fails and it panics before init.
      ...['-append', `console=ttyS0 quiet panic=-1 no_timer_check ${settings.join(' ')}`],
      ...['-serial', `file:${o.console}`],
      // Explicit PCI addresses: without them vda and vdb can swap.
      ...[
        '-blockdev',
        JSON.stringify({
          driver: 'raw',
          'node-name': 'root',
          'read-only': true,
          file: { driver: 'file', filename: o.image.rootDisk, 'read-only': true },
        }),
      ],
      ...['-device', 'virtio-blk-pci,drive=root,addr=0x4'],
      ...['-blockdev', data],
      // write-cache=on: the guest sees a disk with a volatile cache and sends flushes (ext4 journal commits, fdatasync).
      ...['-device', 'virtio-blk-pci,drive=data,addr=0x5,write-cache=on'],
      ...['-netdev', `user,id=n0,${fwd.map((f) => `hostfwd=${f}`).join(',')}`],
      ...['-device', 'virtio-net-pci,netdev=n0,addr=0x3'],
    ];
  }

  start(): void {
    if (this.#opts.writeLog) fs.writeFileSync(this.#opts.writeLog, '');
    fs.writeFileSync(this.#opts.console, '');
    const child = spawn('qemu-system-x86_64', this.args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) process.stderr.write(`powercut: qemu exited ${code ?? signal}: ${stderr}\n`);
    });
    this.#child = child;
    this.startedAt = Date.now();
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  consoleText(): string {
    try {
      return fs.readFileSync(this.#opts.console, 'utf8');
    } catch {
      return '';
    }
  }

  /** The power cut: SIGKILL, then wait until the process is gone (its files are closed). */
  async cut(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (this.running) child.kill('SIGKILL');
    await Promise.race([this.#exited, sleep(10_000)]);
    this.#child = undefined;
  }
}
