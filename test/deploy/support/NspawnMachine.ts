import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../harness/waitFor.ts';

export interface NspawnOptions {
  /** A debootstrapped root with systemd (scripts/deploy/debian-root.sh). It is not written: see `volatile`. */
  root: string;
  /** Machine (and host) name inside. */
  name: string;
  /** host path → container path, read-only. */
  bindReadOnly?: Record<string, string>;
  /** host path → container path, writable. */
  bind?: Record<string, string>;
  /** Where nspawn's console (the container's boot messages) goes. */
  consoleLog: string;
}

/**
 * Where the host's CA bundle appears inside. Machines that reach the npm registry only through a TLS-inspecting
 * proxy trust its CA through NODE_EXTRA_CA_CERTS (set here): commands inside get the same trust, nothing more.
 */
const HOST_CA = '/etc/ssl/host-ca.crt';
const hostCa =
  process.env.NODE_EXTRA_CA_CERTS && fs.existsSync(process.env.NODE_EXTRA_CA_CERTS) ? process.env.NODE_EXTRA_CA_CERTS : undefined;

/** The environment of commands run inside: a login's, not the test runner's (no npm_config_*, no host PATH). */
const INSIDE_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
  SYSTEMD_PAGER: '',
  ...(hostCa ? { NODE_EXTRA_CA_CERTS: HOST_CA } : {}),
};

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A real systemd booted from a Debian root under systemd-nspawn. PID 1 of these machines is not systemd and there
 * is no host D-Bus, so `machinectl` cannot reach it: commands run through nsenter into the container's PID 1.
 * Shares the host's network namespace (no --private-network), so the test's servers on 127.0.0.1 are reachable
 * and the container's ports are the host's. `--volatile=overlay` keeps every write in a tmpfs overlay: the cached
 * root stays as debootstrap left it, and each boot starts clean.
 */
export class NspawnMachine {
  readonly #options: NspawnOptions;
  #nspawn: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  /** The container's PID 1 (systemd), as the host sees it. */
  leader = 0;

  constructor(options: NspawnOptions) {
    this.#options = options;
  }

  /** Boots and waits until `systemctl is-system-running --wait` answers; resolves with the milliseconds it took. */
  async boot(timeoutMs = 120_000): Promise<number> {
    const o = this.#options;
    const args = ['--boot', '--register=no', '--keep-unit', '--console=pipe', '--volatile=overlay', `--machine=${o.name}`, '-D', o.root];
    for (const [from, to] of Object.entries(o.bindReadOnly ?? {})) args.push(`--bind-ro=${from}:${to}`);
    if (hostCa) args.push(`--bind-ro=${hostCa}:${HOST_CA}`);
    for (const [from, to] of Object.entries(o.bind ?? {})) args.push(`--bind=${from}:${to}`);
    const log = fs.openSync(o.consoleLog, 'a');
    const started = performance.now();
    const child = spawn('systemd-nspawn', args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.#nspawn = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.leader = await waitFor(() => (child.exitCode === null ? containerInit(child.pid!) : -1), {
      timeoutMs: 30_000,
      message: () => `no systemd in the container; console: ${tail(o.consoleLog)}`,
    });
    if (this.leader === -1) throw new Error(`systemd-nspawn exited ${child.exitCode}; console: ${tail(o.consoleLog)}`);
    await waitFor(
      () => {
        const r = this.run(['systemctl', 'is-system-running', '--wait'], { timeoutMs: timeoutMs });
        return ['running', 'degraded'].includes(r.stdout.trim());
      },
      { timeoutMs, intervalMs: 200, message: () => `systemd did not finish booting; console: ${tail(o.consoleLog)}` },
    );
    return performance.now() - started;
  }

  /** Runs a command inside (all of PID 1's namespaces), as root. */
  run(argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): RunResult {
    if (!this.leader) throw new Error('the machine is not booted');
    const r = spawnSync('nsenter', ['-t', String(this.leader), '-m', '-u', '-i', '-n', '-p', '-C', '--', ...argv], {
      encoding: 'utf8',
      env: INSIDE_ENV,
      input: opts.input,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw new Error(`nsenter ${argv.join(' ')}: ${r.error.message}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like run(), but throws unless it exits 0; returns stdout. */
  sh(script: string, opts: { input?: string; timeoutMs?: number } = {}): string {
    const r = this.run(['bash', '-c', script], opts);
    if (r.status !== 0) throw new Error(`in ${this.#options.name}: ${script}\n→ exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** `systemctl show -p A -p B UNIT` as a record. */
  show(unit: string, ...properties: string[]): Record<string, string> {
    const out = this.sh(`systemctl show ${properties.map((p) => `-p ${p}`).join(' ')} ${unit}`);
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  /** Powers the container off (orderly shutdown of its systemd); SIGKILLs nspawn if that takes over a minute. */
  async shutdown(): Promise<void> {
    const child = this.#nspawn;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (this.leader) spawnSync('kill', ['-s', 'RTMIN+4', String(this.leader)]); // systemd's "poweroff" signal
    const done = await Promise.race([this.#exited, sleep(60_000, 'timeout', { ref: false })]);
    if (done === 'timeout') {
      child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

/** The container's PID 1: the process whose innermost PID is 1 among nspawn's children. */
function containerInit(nspawnPid: number): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
    const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (Number(ppid) === nspawnPid && nspid && nspid.length > 1 && nspid.at(-1) === '1') return Number(entry);
  }
  return undefined;
}

function tail(file: string, bytes = 3000): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-bytes);
  } catch {
    return '(no console log)';
  }
}
