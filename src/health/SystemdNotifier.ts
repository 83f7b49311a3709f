import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** What the gateway tells its service manager. Both calls return at once and never throw. */
export interface ServiceNotifier {
  /** Start-up is complete (the spool is open, the health server listens); starts the watchdog pings. */
  ready(status: string): void;
  /** Shutdown has begun; stops the watchdog pings. Idempotent. */
  stopping(): void;
  /** A configuration reload has begun; `ready()` follows when it is over (applied or refused). */
  reloading?(): void;
}

/** Delivers one notification (`VAR=value` assignments, one datagram); resolves when done, rejects on failure. */
export type NotifySend = (assignments: readonly string[]) => Promise<void>;

/** The ping timer, the clock it is checked against and the loop-lag probe (tests drive fakes). */
export interface NotifierTimers {
  /** Monotonic ms. */
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Starts measuring event-loop stalls: the longest since the last reset, in ms. */
  lagMonitor(): { maxMs(): number; reset(): void; disable(): void };
}

const REAL_TIMERS: NotifierTimers = {
  now: () => performance.now(),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  lagMonitor: () => {
    const h = monitorEventLoopDelay({ resolution: 20 });
    h.enable();
    return { maxMs: () => h.max / 1e6, reset: () => h.reset(), disable: () => h.disable() };
  },
};

export interface SystemdNotifierOptions {
  /** Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID; main passes `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** How a notification is delivered; default: runs `systemd-notify VAR=value…` as a child (tests pass a fake). */
  readonly send?: NotifySend;
  /**
   * A watchdog ping is skipped when the event loop was blocked longer than this (ms) at a stretch since the
   * previous ping. Default: the ping interval, i.e. half of WATCHDOG_USEC. A loop that stays that sick for a
   * whole WatchdogSec gets no ping, and systemd restarts the service.
   */
  readonly maxLagMs?: number;
  /** Our process id (WATCHDOG_PID names the process the watchdog is meant for); default `process.pid`. */
  readonly pid?: number;
  /** Default: setInterval (unref'ed), performance.now and monitorEventLoopDelay. */
  readonly timers?: NotifierTimers;
}

/**
 * The sd_notify protocol without native code. Node cannot send unix datagrams, so each notification runs
 * `systemd-notify` (asynchronously; the unit needs `NotifyAccess=all` because the sender is a child process).
 * systemd 252's `systemd-notify` waits until the manager has processed the message (BARRIER=1), so the manager
 * can still attribute it to the service's cgroup. Does nothing at all when NOTIFY_SOCKET is unset.
 *
 * - `ready()`: READY=1 + STATUS=…, then WATCHDOG=1 every half of WATCHDOG_USEC (when set and WATCHDOG_PID is
 *   unset or ours), unless the event loop lagged more than `maxLagMs` since the last ping or the previous
 *   ping has not finished.
 * - `reloading()`: RELOADING=1 + MONOTONIC_USEC; the next `ready()` (READY=1) ends the reload.
 * - `stopping()`: STOPPING=1; the pings stop.
 */
export class SystemdNotifier implements ServiceNotifier {
  readonly #logger: Logger;
  readonly #send: NotifySend | undefined;
  readonly #pingIntervalMs: number;
  readonly #maxLagMs: number;
  readonly #timers: NotifierTimers;
  #timer: unknown;
  #lag: ReturnType<NotifierTimers['lagMonitor']> | undefined;
  /** When the next ping tick is due (timers.now()): a late tick is event-loop lag too. */
  #due = 0;
  #pinging = false;
  #stopped = false;
  #queue: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #warned = false;

  constructor(options: SystemdNotifierOptions) {
    const { env, logger } = options;
    this.#logger = logger;
    const socket = env.NOTIFY_SOCKET;
    this.#send = socket ? (options.send ?? ((a) => runSystemdNotify(a, env))) : undefined;
    this.#pingIntervalMs = socket ? watchdogIntervalMs(env, options.pid ?? process.pid, logger) : 0;
    this.#maxLagMs = options.maxLagMs ?? this.#pingIntervalMs;
    this.#timers = options.timers ?? REAL_TIMERS;
  }

  /** True when NOTIFY_SOCKET is set. */
  get enabled(): boolean {
    return this.#send !== undefined;
  }

  /** The watchdog ping interval (ms); 0 = no watchdog. */
  get pingIntervalMs(): number {
    return this.#pingIntervalMs;
  }

  ready(status: string): void {
    if (this.#send === undefined || this.#stopped) return;
    this.#notify(['READY=1', `STATUS=${oneLine(status)}`], undefined, true);
    if (this.#pingIntervalMs > 0 && this.#timer === undefined) {
      this.#lag = this.#timers.lagMonitor();
      this.#timer = this.#timers.setInterval(() => this.#ping(), this.#pingIntervalMs);
      this.#due = this.#timers.now() + this.#pingIntervalMs;
      this.#logger.info({ intervalMs: this.#pingIntervalMs }, 'systemd watchdog pings started');
    }
  }

  /**
   * RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, which `process.hrtime` reads on Linux): systemd 253's
   * Type=notify-reload requires the timestamp, older ones ignore it; the READY=1 of `ready()` ends the reload.
   */
  reloading(): void {
    if (this.#send === undefined || this.#stopped) return;
    this.#notify(
      ['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, 'STATUS=reloading the configuration'],
      undefined,
      true,
    );
  }

  stopping(): void {
    if (this.#send === undefined || this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
    this.#lag?.disable();
    this.#notify(['STOPPING=1', 'STATUS=stopping']);
  }

  #ping(): void {
    // The histogram's sampling timer may fire after this one in the same turn of the loop and miss a block
    // that has just ended; the lateness of this tick covers that case.
    const now = this.#timers.now();
    const lagMs = Math.max(now - this.#due, this.#lag === undefined ? 0 : this.#lag.maxMs());
    this.#due = now + this.#pingIntervalMs;
    this.#lag?.reset();
    if (lagMs > this.#maxLagMs) {
      this.#logger.warn({ lagMs: Math.round(lagMs), maxLagMs: this.#maxLagMs }, 'event loop blocked: systemd watchdog ping skipped');
      return;
    }
    // A ping still running means the machine is too busy to start another child; the next tick tries again.
    if (this.#pinging) return;
    this.#pinging = true;
    this.#notify(['WATCHDOG=1'], () => (this.#pinging = false));
  }

  /**
   * `ordered`: READY=1 and RELOADING=1, sent one after the other (each is its own child process, and a RELOADING=1
   * must not overtake the READY=1 before it); at once when none of them is in flight. The others go at once:
   * STOPPING=1 must leave before the process exits.
   */
  #notify(assignments: readonly string[], done?: () => void, ordered = false): void {
    const send = (): Promise<void> => this.#send!(assignments);
    let sent: Promise<void>;
    if (!ordered) sent = send();
    else {
      sent = this.#inFlight === 0 ? send() : this.#queue.then(send);
      this.#inFlight++;
      this.#queue = sent.catch(() => {}).finally(() => this.#inFlight--);
    }
    sent.then(
      () => done?.(),
      (error: unknown) => {
        done?.();
        // Not being able to notify is not fatal to the data path; say so once, not every ping.
        if (this.#warned) return;
        this.#warned = true;
        this.#logger.warn({ err: String(error), notification: assignments[0] }, 'systemd notification failed');
      },
    );
  }
}

/** Half of WATCHDOG_USEC in ms when the watchdog is meant for us; 0 otherwise. */
function watchdogIntervalMs(env: Readonly<Record<string, string | undefined>>, pid: number, logger: Logger): number {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return 0;
  const watchdogPid = env.WATCHDOG_PID;
  if (watchdogPid !== undefined && watchdogPid !== '' && Number(watchdogPid) !== pid) return 0;
  const value = Number(usec);
  if (!Number.isSafeInteger(value) || value <= 0) {
    logger.warn({ WATCHDOG_USEC: usec }, 'WATCHDOG_USEC is not a positive integer: no watchdog pings');
    return 0;
  }
  return Math.max(1, Math.floor(value / 2000));
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** `systemd-notify VAR=value…`, asynchronously; rejects when it cannot run or exits non-zero. */
function runSystemdNotify(assignments: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('systemd-notify', [...assignments], { env: { ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`systemd-notify exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}
