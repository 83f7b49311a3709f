/**
 * The one gateway-process wrapper for tests, bench and scripts: the built gateway (`dist/main.js`) as a child
 * process on a free HTTP port, its output collected (or appended to a log file), stopped with SIGTERM then
 * SIGKILL, and SIGKILLed when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from './findBinary.ts';
import { freePort } from './freePort.ts';
import type { GatewayStatus } from './GatewayStatus.ts';
import { waitFor } from './waitFor.ts';

export type { GatewayStatus } from './GatewayStatus.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** `dist/main.js`, or EDGEBRIDGE_TEST_MAIN: another build of the entry point (a before/after of a change). */
const mainFile = (): string =>
  process.env.EDGEBRIDGE_TEST_MAIN ? path.resolve(process.env.EDGEBRIDGE_TEST_MAIN) : path.join(ROOT, 'dist', 'main.js');

/** Start-up allowance: 20 s natively; under emulation (EDGEBRIDGE_TEST_NODE, qemu-user on a loaded machine) 90 s. */
const READY_TIMEOUT_MS = process.env.EDGEBRIDGE_TEST_NODE?.trim() ? 90_000 : 20_000;
/** One HTTP request to the gateway: a limit on a hang, not a latency claim (the emulated /metrics is slow). */
const REQUEST_TIMEOUT_MS = process.env.EDGEBRIDGE_TEST_NODE?.trim() ? 30_000 : 5000;

/**
 * How to start a Node program: `process.execPath` by default. `EDGEBRIDGE_TEST_NODE` overrides it with a command
 * line (e.g. `qemu-aarch64-static -L /opt/arm64 /opt/node-arm64/bin/node` to run the gateway under emulation).
 */
export function nodeCommand(): { command: string; prefix: string[] } {
  const override = process.env.EDGEBRIDGE_TEST_NODE?.trim();
  if (!override) return { command: process.execPath, prefix: [] };
  const [command, ...prefix] = override.split(/\s+/);
  return { command: command!, prefix };
}

export interface GatewayProcessOptions {
  /** EDGEBRIDGE_* variables; HTTP host/port, spool dir and a quiet log level are filled in when absent. */
  readonly env: Record<string, string>;
  readonly args?: readonly string[];
  /** Wait for /readyz = 200 (default) or only /healthz. */
  readonly waitUntil?: 'ready' | 'alive' | 'none';
  readonly timeoutMs?: number;
  /** How often the probe is polled while waiting (default 100 ms; the bench polls every 10 ms for readyMs). */
  readonly pollMs?: number;
  /** Node flags before `dist/main.js` (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Another build's `main.js` instead of this checkout's `dist/main.js` (A/B benchmarks of two builds). */
  readonly main?: string;
  /** The environment under `env` (default: PATH only; the demo passes its own minus EDGEBRIDGE_*). */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Append stdout and stderr to this file instead of collecting them. */
  readonly logFile?: string;
  /** Keep only the last this many characters of stdout and of stderr (long runs); default: all. */
  readonly keepChars?: number;
  /**
   * Own process group, so a terminal's Ctrl-C reaches only the caller, which then stops the gateway itself; with
   * `setpriv --pdeathsig` (when installed) the kernel kills the gateway should the caller be killed.
   */
  readonly detached?: boolean;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** The built gateway (`dist/main.js`) as a child process, its JSON log lines collected. */
export class GatewayProcess {
  readonly port: number;
  readonly url: string;
  /** The spool directory it runs with (a temp dir of its own unless env names one). */
  readonly spoolDir: string;
  /** Milliseconds from spawn to the first 200 of the probe waited for (0 with waitUntil 'none'). */
  readyMs = 0;
  readonly #child: ChildProcess;
  readonly #exited: Promise<Exit>;
  readonly #ownSpool: boolean;
  #stdout = '';
  #stderr = '';

  private constructor(child: ChildProcess, port: number, spoolDir: string, ownSpool: boolean, keepChars: number) {
    this.#child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.spoolDir = spoolDir;
    this.#ownSpool = ownSpool;
    const keep = (s: string): string => (s.length > keepChars ? s.slice(-keepChars) : s);
    child.stdout?.on('data', (d: Buffer) => (this.#stdout = keep(this.#stdout + d.toString())));
    child.stderr?.on('data', (d: Buffer) => (this.#stderr = keep(this.#stderr + d.toString())));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    running.add(this);
    void this.#exited.then(() => running.delete(this));
  }

  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const port = options.env.EDGEBRIDGE_HTTP_PORT ? Number(options.env.EDGEBRIDGE_HTTP_PORT) : await freePort();
    const ownSpool = options.env.EDGEBRIDGE_SPOOL_DIR === undefined;
    const spoolDir = options.env.EDGEBRIDGE_SPOOL_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-spool-'));
    const env: NodeJS.ProcessEnv = {
      ...(options.baseEnv ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' }),
      EDGEBRIDGE_HTTP_HOST: '127.0.0.1',
      EDGEBRIDGE_HTTP_PORT: String(port),
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_LOG_LEVEL: 'info',
      EDGEBRIDGE_GATEWAY_ID: 'gw-test',
      ...options.env,
    };
    const { command, prefix } = nodeCommand();
    let argv = [...prefix, ...(options.nodeArgs ?? []), options.main ?? mainFile(), ...(options.args ?? [])];
    let file = command;
    const setpriv = options.detached ? findBinary('setpriv') : undefined;
    if (setpriv !== undefined) [file, argv] = [setpriv, ['--pdeathsig', 'KILL', '--', command, ...argv]];
    const logFd = options.logFile === undefined ? undefined : fs.openSync(options.logFile, 'a');
    const stdio = logFd === undefined ? (['ignore', 'pipe', 'pipe'] as const) : (['ignore', logFd, logFd] as const);
    const t0 = performance.now();
    const child = spawn(file, argv, { env, stdio: [...stdio], detached: options.detached === true });
    if (logFd !== undefined) fs.closeSync(logFd);
    const gw = new GatewayProcess(child, port, spoolDir, ownSpool, options.keepChars ?? Number.POSITIVE_INFINITY);
    const until = options.waitUntil ?? 'ready';
    if (until !== 'none') {
      const probe = until === 'ready' ? '/readyz' : '/healthz';
      try {
        await waitFor(async () => gw.exitedAlready || (await gw.get(probe).catch(() => undefined))?.status === 200, {
          timeoutMs: options.timeoutMs ?? READY_TIMEOUT_MS,
          intervalMs: options.pollMs ?? 100,
          message: () => `gateway ${probe} not 200; stderr: ${gw.stderr.slice(-2000)} stdout: ${gw.stdout.slice(-3000)}`,
        });
        if (gw.exitedAlready)
          throw new Error(`the gateway exited (code ${child.exitCode}, signal ${child.signalCode}); stderr: ${gw.stderr.slice(-2000)}`);
      } catch (err) {
        gw.signal('SIGKILL');
        throw err;
      }
      gw.readyMs = performance.now() - t0;
    }
    return gw;
  }

  /** Runs the CLI to completion (check-config, print-config, a bad config…). */
  static run(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { command, prefix } = nodeCommand();
    const child = spawn(command, [...prefix, mainFile(), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True once the process has exited (or was killed). */
  get exitedAlready(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** The JSON log lines written so far. */
  logs(): Record<string, unknown>[] {
    return this.#stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async get(pathname: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.url}${pathname}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  }

  async status(): Promise<GatewayStatus> {
    return (await (await this.get('/status')).json()) as GatewayStatus;
  }

  async sink(name: string): Promise<GatewayStatus['sinks'][number]> {
    const s = (await this.status()).sinks.find((x) => x.name === name);
    if (s === undefined) throw new Error(`no sink ${name}`);
    return s;
  }

  signal(sig: NodeJS.Signals): void {
    this.#child.kill(sig);
  }

  /** Sends SIGTERM and waits for the exit (SIGKILL after timeoutMs); a spool dir it made itself is removed. */
  async stop(timeoutMs = 30_000): Promise<Exit> {
    try {
      if (this.exitedAlready) return await this.#exited;
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      try {
        return await this.#exited;
      } finally {
        clearTimeout(timer);
      }
    } finally {
      if (this.#ownSpool) fs.rmSync(this.spoolDir, { recursive: true, force: true });
    }
  }

  exited(): Promise<Exit> {
    return this.#exited;
  }
}

const running = new Set<GatewayProcess>();
process.once('exit', () => {
  for (const gw of running) {
    try {
      gw.signal('SIGKILL');
    } catch {
      // already gone
    }
  }
});
