import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../harness/waitFor.ts';

export interface DockerEngineOptions {
  /** Images, volumes and the build cache: kept between runs (the base images are built once). */
  dataRoot: string;
  /** Where dockerd's log goes. */
  log: string;
}

export interface DockerResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Debian's docker.io CLI (the engine's own version); another `docker` earlier in PATH may be a different client (a
 * newer one refuses BuildKit builds without buildx). Looked up at each call: on a fresh machine the prerequisites
 * install docker.io after this module is loaded.
 */
const cli = (): string => (fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
const TRUST_KEY = '/etc/docker/key.json';

/**
 * A Docker engine (Debian's docker.io, dockerd 20.10) of the test's own: its own data root, exec root, pidfile and
 * socket, so the machine's engine (if any) is never touched. No bridge, no iptables, no IP forwarding (without
 * --ip-forward=false dockerd turns the host's forwarding on): containers run with --network host and reach the
 * test's servers on 127.0.0.1. Stopped by its PID; the trust key it writes to /etc/docker is removed again when it
 * was not there before.
 */
export class DockerEngine {
  readonly #options: DockerEngineOptions;
  readonly #execRoot = fs.mkdtempSync('/run/eb-docker-');
  readonly #config = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-docker-cli-'));
  readonly #keyExisted = fs.existsSync(TRUST_KEY);
  #dockerd: ChildProcess | undefined;
  #exited: Promise<unknown> | undefined;

  constructor(options: DockerEngineOptions) {
    this.#options = options;
  }

  get socket(): string {
    return path.join(this.#execRoot, 'docker.sock');
  }

  /** Starts dockerd and waits until it answers; resolves with the milliseconds it took. */
  async start(): Promise<number> {
    fs.mkdirSync(this.#options.dataRoot, { recursive: true });
    const log = fs.openSync(this.#options.log, 'a');
    const started = performance.now();
    const args = [
      `--data-root=${this.#options.dataRoot}`,
      `--exec-root=${this.#execRoot}`,
      `--pidfile=${path.join(this.#execRoot, 'dockerd.pid')}`,
      `--host=unix://${this.socket}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--userland-proxy=false',
    ];
    const child = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.#dockerd = child;
    this.#exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(() => child.exitCode === null && this.docker(['version', '--format', '{{.Server.Version}}']).status === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: () => `dockerd did not answer; log: ${fs.readFileSync(this.#options.log, 'utf8').slice(-2000)}`,
    });
    return performance.now() - started;
  }

  /** Runs the docker CLI against this engine (BuildKit on: the builder `docker buildx build` uses). */
  docker(args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): DockerResult {
    const r = spawnSync(cli(), args, {
      encoding: 'utf8',
      input: opts.input,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 256 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        DOCKER_HOST: `unix://${this.socket}`,
        DOCKER_CONFIG: this.#config,
        DOCKER_BUILDKIT: '1',
        BUILDKIT_PROGRESS: 'plain',
      },
    });
    if (r.error) throw new Error(`docker ${args.join(' ')}: ${r.error.message}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** docker(), throwing unless it exits 0; returns stdout trimmed. */
  ok(args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): string {
    const r = this.docker(args, opts);
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} → exit ${r.status}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    return r.stdout.trim();
  }

  /** SIGTERM to dockerd (it stops its containers and its containerd), SIGKILL after 60 s; removes what it left. */
  async stop(): Promise<void> {
    const child = this.#dockerd;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if ((await Promise.race([this.#exited, sleep(60_000, 'timeout', { ref: false })])) === 'timeout') {
        child.kill('SIGKILL');
        await this.#exited;
      }
    }
    // dockerd leaves its network namespace file (netns/default) mounted under the exec root.
    const mounts = fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${this.#execRoot}/`))
      .reverse();
    for (const m of mounts) spawnSync('umount', [m], { stdio: 'ignore' });
    fs.rmSync(this.#execRoot, { recursive: true, force: true });
    fs.rmSync(this.#config, { recursive: true, force: true });
    if (!this.#keyExisted) fs.rmSync(TRUST_KEY, { force: true });
  }
}
