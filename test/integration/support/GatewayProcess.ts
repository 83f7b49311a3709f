import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../harness/freePort.ts';
import { waitFor } from '../../harness/waitFor.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'dist', 'main.js');

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
}

export interface GatewayStatus {
  readiness: { ready: boolean; problems: string[] };
  mqtt: { connected: boolean };
  messages: { received: number; accepted: number; unrouted: number; rejected: number; rejectedByReason: Record<string, number> };
  sinks: {
    name: string;
    breaker: string;
    pointsWritten: number;
    pointsRejected: number;
    pointsRetried: number;
    pointsDropped: number;
    backlog: { points: number };
    lastError: { kind: string; message: string } | null;
  }[];
}

/** The built gateway (`dist/main.js`) as a child process, its JSON log lines collected. */
export class GatewayProcess {
  readonly port: number;
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stdout = '';
  #stderr = '';

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    child.stdout?.on('data', (d: Buffer) => (this.#stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    running.add(this);
    void this.#exited.then(() => running.delete(this));
  }

  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const port = options.env.EDGEBRIDGE_HTTP_PORT ? Number(options.env.EDGEBRIDGE_HTTP_PORT) : await freePort();
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-spool-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      EDGEBRIDGE_HTTP_HOST: '127.0.0.1',
      EDGEBRIDGE_HTTP_PORT: String(port),
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_LOG_LEVEL: 'info',
      EDGEBRIDGE_GATEWAY_ID: 'gw-test',
      ...options.env,
    };
    const { command, prefix } = nodeCommand();
    const child = spawn(command, [...prefix, MAIN, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const gw = new GatewayProcess(child, port);
    const until = options.waitUntil ?? 'ready';
    if (until !== 'none') {
      const probe = until === 'ready' ? '/readyz' : '/healthz';
      await waitFor(async () => (await gw.get(probe).catch(() => undefined))?.status === 200, {
        timeoutMs: options.timeoutMs ?? 20_000,
        intervalMs: 100,
        message: () => `gateway ${probe} not 200; stderr: ${gw.stderr.slice(-2000)} stdout: ${gw.stdout.slice(-3000)}`,
      });
    }
    return gw;
  }

  /** Runs the CLI to completion (check-config, print-config, a bad config…). */
  static run(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { command, prefix } = nodeCommand();
    const child = spawn(command, [...prefix, MAIN, ...args], {
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

  /** The JSON log lines written so far. */
  logs(): Record<string, unknown>[] {
    return this.#stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async get(pathname: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.url}${pathname}`, { ...init, signal: AbortSignal.timeout(5000) });
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

  /** Sends SIGTERM and waits for the exit. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#exited;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exited;
  }
}

const running = new Set<GatewayProcess>();
process.once('exit', () => {
  for (const gw of running) gw.signal('SIGKILL');
});
