/**
 * The built gateway (`dist/main.js`) as a child process for the bench. Like test/integration/support/GatewayProcess
 * but it times spawn → /readyz 200 and, with EDGEBRIDGE_BENCH_PROFILE=1, runs Node with `--cpu-prof` (one
 * .cpuprofile per gateway process, written on exit into bench/results/profiles/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/harness/freePort.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
export const PROFILE_DIR = path.join(ROOT, 'bench', 'results', 'profiles');

export interface BenchStatus {
  readiness: { ready: boolean; problems: string[] };
  mqtt: { connected: boolean; disconnects: number };
  messages: { received: number; accepted: number; unrouted: number; rejected: number };
  spool: { bytesWritten?: number; fsyncs?: number };
  sinks: {
    name: string;
    breaker: string;
    pointsWritten: number;
    pointsDropped: number;
    backlog: { points: number; bytes: number; ageSeconds: number };
    lastError: { kind: string; message: string } | null;
  }[];
  process: { rssBytes: number };
}

export interface BenchGatewayOptions {
  /** A name for the profile file. */
  name: string;
  env: Record<string, string>;
  profile: boolean;
}

export class BenchGateway {
  readonly url: string;
  readonly spoolDir: string;
  /** Milliseconds from spawn to the first /readyz 200. */
  readyMs = 0;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #stderr = '';

  private constructor(child: ChildProcess, port: number, spoolDir: string) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
    this.spoolDir = spoolDir;
    child.stdout?.on('data', () => undefined);
    child.stderr?.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-4000)));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    live.add(this);
    void this.#exited.then(() => live.delete(this));
  }

  static async start(opts: BenchGatewayOptions): Promise<BenchGateway> {
    const port = await freePort();
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-bench-spool-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      EDGEBRIDGE_HTTP_HOST: '127.0.0.1',
      EDGEBRIDGE_HTTP_PORT: String(port),
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_LOG_LEVEL: 'warn',
      ...opts.env,
    };
    const nodeArgs: string[] = [];
    if (opts.profile) {
      fs.mkdirSync(PROFILE_DIR, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${opts.name}.cpuprofile`);
    }
    const t0 = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const gw = new BenchGateway(child, port, spoolDir);
    const deadline = Date.now() + 30_000;
    while (true) {
      const ok = await fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) break;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`gateway not ready (exit ${child.exitCode}); stderr: ${gw.#stderr}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    gw.readyMs = performance.now() - t0;
    return gw;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Requests to /status that failed or took longer than 5 s (then retried): the event loop was blocked. */
  statusTimeouts = 0;
  /** The slowest /status answer, ms. */
  slowestStatusMs = 0;

  /** GET /status; retried (up to 60 s) when the gateway is too busy to answer within 5 s. */
  async status(): Promise<BenchStatus> {
    const deadline = Date.now() + 60_000;
    while (true) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${this.url}/status`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as BenchStatus;
        this.slowestStatusMs = Math.max(this.slowestStatusMs, performance.now() - t0);
        return body;
      } catch (err) {
        this.statusTimeouts++;
        if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
          throw new Error(`gateway exited (code ${this.#child.exitCode}, signal ${this.#child.signalCode}); stderr: ${this.#stderr.slice(-1500)}`);
        }
        if (Date.now() > deadline) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000);
      await this.#exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.spoolDir, { recursive: true, force: true });
  }
}

const live = new Set<BenchGateway>();
process.once('exit', () => {
  for (const gw of live) {
    try {
      process.kill(gw.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
