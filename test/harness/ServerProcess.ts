import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './freePort.ts';
import { findBinary, isExecutable } from './findBinary.ts';
import { processState, tryProc } from './procfs.ts';

/** Answers true once the server at 127.0.0.1:port serves requests. Must not throw for "not yet". */
export type ReadyProbe = (port: number) => Promise<boolean>;

export interface ServerProcessOptions {
  /** Short name for logs, temp dir names and errors, e.g. 'redis'. */
  name: string;
  /** Absolute path of the binary, or a bare name looked up in PATH. */
  command: string;
  /** Debian package that provides the binary (named in the error when it is missing). */
  debianPackage: string;
  /** Arguments, rebuilt on every (re)start; may write config files into dir. */
  args: (port: number, dir: string) => string[];
  ready: ReadyProbe;
  /** Fixed port. Default: a fresh freePort(); then a start that loses a port race is retried on another port. */
  port?: number;
  /** Data/temp dir. Default: a new dir under os.tmpdir(), removed when the test process exits. */
  dir?: string;
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before it sends SIGKILL. */
  stopGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_STOP_GRACE_MS = 10_000;
const SETPRIV = '/usr/bin/setpriv';

// ---------------------------------------------------------------------------------------------
// No orphans: every child is SIGKILLed when the test process exits (normally, by process.exit,
// or by SIGINT/SIGTERM/SIGHUP). Children are also started through `setpriv --pdeathsig KILL`
// (util-linux, essential on Debian) so that the kernel kills them even if this process is SIGKILLed.
// ---------------------------------------------------------------------------------------------
const liveServers = new Set<ServerProcess>();
const ownedDirs = new Set<string>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const server of liveServers) {
    const pid = server.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  liveServers.clear();
  if (process.env['EDGEBRIDGE_KEEP_TMP'] !== '1') {
    for (const dir of ownedDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // best effort
      }
    }
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      // Let the default action (or whoever else listens) end the process as the signal intended.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Pids of the servers this process started that have not exited yet. */
export function liveServerPids(): number[] {
  const pids: number[] = [];
  for (const server of liveServers) if (server.pid !== undefined) pids.push(server.pid);
  return pids;
}

/** True when a process with this pid exists and is not a zombie (an orphan waiting for init to reap it). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = tryProc(processState, pid);
  if (state === undefined) return process.platform !== 'linux';
  return state !== 'Z' && state !== 'X';
}

/** Absolute path of `command` (absolute as given, else found in PATH, /usr/sbin, /sbin), or a helpful error. */
export function resolveBinary(command: string, debianPackage: string): string {
  if (command.includes('/')) {
    if (isExecutable(command)) return command;
  } else {
    const found = findBinary(command);
    if (found !== undefined) return found;
  }
  // A bare name may live elsewhere under the same basename (e.g. /usr/sbin/mosquitto given, but PATH has it).
  if (command.includes('/')) {
    const found = findBinary(path.basename(command), []);
    if (found !== undefined) return found;
  }
  throw new Error(
    `${command} not found. Install the Debian package: ` + `apt-get update && apt-get install -y --no-install-recommends ${debianPackage}`,
  );
}

/** Ready when a TCP connection to 127.0.0.1:port succeeds. */
export function tcpProbe(host = '127.0.0.1', timeoutMs = 1000): ReadyProbe {
  return (port) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

/** Ready when GET http://host:port<path> answers with `status`. */
export function httpProbe(urlPath: string, status = 200, host = '127.0.0.1', timeoutMs = 1000): ReadyProbe {
  return (port) =>
    new Promise<boolean>((resolve) => {
      const req = http.get({ host, port, path: urlPath, timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === status);
      });
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => resolve(false));
    });
}

/** Last `lines` lines of a (possibly large) text file, '' when it does not exist. */
export function tailFile(file: string, lines = 30, maxBytes = 64 * 1024): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(-lines)
      .join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** The port was taken by someone else before the server could be started. */
export class PortBusyError extends Error {
  override name = 'PortBusyError';
}

/**
 * One child server process owned by a test: spawned with stdout+stderr appended to `<dir>/<name>.log`,
 * awaited until ready, stopped by SIGTERM (SIGKILL after a grace period) or killed by SIGKILL,
 * and restartable on the same port and data dir.
 */
export class ServerProcess {
  readonly name: string;
  readonly dir: string;
  readonly logFile: string;
  readonly binary: string;
  /** Fixed for the life of this object once the first start succeeded (restart() keeps it). */
  port: number;
  /** How many times the process was spawned successfully (ready). */
  starts = 0;
  /** How the last child ended (undefined while it runs or before the first start). */
  lastExit: ExitInfo | undefined;

  readonly #options: ServerProcessOptions;
  readonly #portIsFixed: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<ExitInfo> | undefined;

  private constructor(options: ServerProcessOptions, binary: string, port: number, dir: string) {
    this.#options = options;
    this.#portIsFixed = options.port !== undefined;
    this.name = options.name;
    this.binary = binary;
    this.port = port;
    this.dir = dir;
    this.logFile = path.join(dir, `${options.name}.log`);
  }

  /** Create the temp dir, pick a port, spawn and wait until ready. */
  static async launch(options: ServerProcessOptions): Promise<ServerProcess> {
    const binary = resolveBinary(options.command, options.debianPackage);
    let dir = options.dir;
    if (dir === undefined) {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `edgebridge-${options.name}-`));
      ownedDirs.add(dir);
      installExitHooks();
    } else {
      fs.mkdirSync(dir, { recursive: true });
    }
    const port = options.port ?? (await freePort());
    const server = new ServerProcess(options, binary, port, dir);
    await server.start();
    return server;
  }

  get pid(): number | undefined {
    return this.#child !== undefined && this.lastExit === undefined ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.lastExit === undefined;
  }

  /** Last lines of this server's log (for error messages). */
  logTail(lines = 30): string {
    return tailFile(this.logFile, lines);
  }

  /** Spawn (if not running) and wait until ready. On the very first start, a lost port race is retried on a new port. */
  async start(): Promise<void> {
    if (this.running) return;
    const maxAttempts = this.starts === 0 && !this.#portIsFixed ? 4 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#spawnAndWait();
        this.starts++;
        return;
      } catch (err) {
        const portLost = err instanceof PortBusyError || /address already in use|EADDRINUSE/i.test(this.logTail(10));
        if (attempt >= maxAttempts || !portLost) throw err;
        this.port = await freePort();
      }
    }
  }

  async #spawnAndWait(): Promise<void> {
    // Something already answering on the port (another test process won the race, or a fixed port
    // is taken) would pass the ready probe for us: refuse rather than talk to a server we did not start.
    if (await tcpProbe()(this.port)) {
      throw new PortBusyError(`${this.name}: port ${this.port} on 127.0.0.1 is already in use by another process`);
    }
    const args = this.#options.args(this.port, this.dir);
    const usePdeathsig = fs.existsSync(SETPRIV);
    const file = usePdeathsig ? SETPRIV : this.binary;
    const argv = usePdeathsig ? ['--pdeathsig', 'KILL', '--', this.binary, ...args] : args;

    fs.appendFileSync(this.logFile, `\n=== ${new Date().toISOString()} start #${this.starts + 1}: ${this.binary} ${args.join(' ')}\n`);
    const logFd = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, argv, {
        cwd: this.dir,
        env: this.#options.env ?? process.env,
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      fs.closeSync(logFd);
    }
    // A forgotten server must not keep the test process alive: the exit hook kills it.
    // stop()/kill() re-ref the handle while they wait for the exit.
    child.unref();
    this.lastExit = undefined;
    this.#child = child;
    let spawnError: Error | undefined;
    this.#exited = new Promise<ExitInfo>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        this.lastExit = { code: null, signal: null };
        liveServers.delete(this);
        resolve(this.lastExit);
      });
      child.once('exit', (code, signal) => {
        this.lastExit = { code, signal };
        liveServers.delete(this);
        resolve(this.lastExit);
      });
    });
    liveServers.add(this);
    installExitHooks();

    const timeoutMs = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (!this.running) {
        const exit = this.lastExit as ExitInfo | undefined;
        const how = spawnError
          ? `could not be spawned: ${spawnError.message}`
          : `exited (code ${exit?.code}, signal ${exit?.signal}) before it was ready`;
        throw new Error(`${this.name} on port ${this.port} ${how}. Last log lines (${this.logFile}):\n${this.logTail()}`);
      }
      if ((await this.#options.ready(this.port)) && this.running) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(
          `${this.name} on port ${this.port} not ready within ${timeoutMs} ms. Last log lines (${this.logFile}):\n${this.logTail()}`,
        );
      }
      await sleep(50);
    }
  }

  /** SIGTERM, wait for exit; SIGKILL after the grace period. Resolves with how it ended. */
  async stop(graceMs = this.#options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS): Promise<ExitInfo | undefined> {
    if (!this.running || this.#child === undefined || this.#exited === undefined) return this.lastExit;
    const exited = this.#exited;
    this.#child.ref();
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const first = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.#child.kill('SIGKILL');
      return exited;
    }
    return first;
  }

  /** SIGKILL and wait until the process is gone (reaped). */
  async kill(): Promise<ExitInfo | undefined> {
    if (!this.running || this.#child === undefined || this.#exited === undefined) return this.lastExit;
    this.#child.ref();
    this.#child.kill('SIGKILL');
    return this.#exited;
  }

  /** Graceful stop if running, then start again on the same port with the same data dir. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start();
  }

  /** Kill and remove the temp dir (when this harness created it). */
  async destroy(): Promise<void> {
    await this.kill();
    if (ownedDirs.has(this.dir) && process.env['EDGEBRIDGE_KEEP_TMP'] !== '1') {
      fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      ownedDirs.delete(this.dir);
    }
  }
}
