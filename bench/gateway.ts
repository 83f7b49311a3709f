/**
 * A gateway for the bench: the harness's GatewayProcess with the bench's defaults (quiet log, only the last
 * 4 000 characters of output kept, `--cpu-prof` into bench/results/profiles/ when profiling), and a /status
 * that retries while the gateway is too busy to answer and records how slow its answers were.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayProcess, type GatewayStatus } from '../test/harness/index.ts';

export const PROFILE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'profiles');

export class BenchGateway {
  readonly #gw: GatewayProcess;
  /** Requests to /status that failed or took longer than 5 s (then retried): the event loop was blocked. */
  statusTimeouts = 0;
  /** The slowest /status answer, ms. */
  slowestStatusMs = 0;

  private constructor(gw: GatewayProcess) {
    this.#gw = gw;
  }

  /** Starts one and waits for /readyz 200; `name` names its CPU profile. */
  static async start(opts: { name: string; env: Record<string, string>; profile: boolean; main?: string }): Promise<BenchGateway> {
    if (opts.profile) fs.mkdirSync(PROFILE_DIR, { recursive: true });
    const nodeArgs = opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${opts.name}.cpuprofile`] : [];
    const gw = await GatewayProcess.start({
      env: { EDGEBRIDGE_LOG_LEVEL: 'warn', ...opts.env },
      nodeArgs,
      ...(opts.main !== undefined ? { main: opts.main } : {}),
      keepChars: 4000,
      timeoutMs: 30_000,
      pollMs: 10,
    });
    return new BenchGateway(gw);
  }

  get pid(): number {
    return this.#gw.pid ?? 0;
  }

  /** Milliseconds from spawn to the first /readyz 200. */
  get readyMs(): number {
    return this.#gw.readyMs;
  }

  /** GET /status; retried (up to 60 s) when the gateway is too busy to answer within 5 s. */
  async status(): Promise<GatewayStatus> {
    const deadline = Date.now() + 60_000;
    while (true) {
      const t0 = performance.now();
      try {
        const body = await this.#gw.status();
        this.slowestStatusMs = Math.max(this.slowestStatusMs, performance.now() - t0);
        return body;
      } catch (err) {
        this.statusTimeouts++;
        if (this.#gw.exitedAlready) throw new Error(`gateway exited; stderr: ${this.#gw.stderr.slice(-1500)}`);
        if (Date.now() > deadline) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    await this.#gw.stop();
  }
}
