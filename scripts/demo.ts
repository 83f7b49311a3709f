/**
 * `npm run demo`: edgebridge end to end on this machine, nothing to configure.
 *
 *   npm run demo [-- --devices 50 --rate 200 --duration SECONDS]
 *
 * Starts a private Mosquitto, Redis and VictoriaMetrics (the InfluxDB v2 write API stand-in) on free
 * loopback ports in one temp dir (servers already running on the standard ports are never touched),
 * starts the built gateway (dist/main.js) against them, runs the sensor simulator, prints a line of
 * throughput every 2 s, and on Ctrl-C / SIGTERM / end of --duration stops everything, checks that the
 * data landed in both sinks, removes the temp dir and exits 0 (data landed) or 1.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  freePort,
  startMosquitto,
  startRedis,
  startVictoriaMetrics,
  tailFile,
  waitFor,
} from '../test/harness/index.ts';
import type { ExportedSeries, MosquittoHandle, RedisHandle, VictoriaMetricsHandle } from '../test/harness/index.ts';
import { runSimulator } from './simulator.ts';
import type { Simulator, SimStats } from './simulator.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_JS = path.join(ROOT, 'dist', 'main.js');
const REPORT_EVERY_MS = 2000;
const GATEWAY_ID = 'demo';

const out = (line = ''): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

// ------------------------------------------------------------------------------------------------
// Arguments
// ------------------------------------------------------------------------------------------------

const USAGE = `usage: npm run demo [-- --devices N] [--rate MSG_PER_S] [--duration SECONDS]
  --devices   simulated sensors (default 50)
  --rate      total messages per second (default 200)
  --duration  stop after this many seconds (default: run until Ctrl-C)
`;

interface DemoArgs {
  devices: number;
  rate: number;
  duration: number | undefined;
}

function parseDemoArgs(argv: string[]): DemoArgs {
  let values: { devices?: string; rate?: string; duration?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        devices: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`demo: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    out(USAGE);
    process.exit(0);
  }
  const num = (name: string, text: string | undefined, fallback: number, integer: boolean): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      err(`demo: --${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  return {
    devices: num('devices', values.devices, 50, true),
    rate: num('rate', values.rate, 200, false),
    duration: values.duration === undefined ? undefined : num('duration', values.duration, 0, false),
  };
}

// ------------------------------------------------------------------------------------------------
// Prerequisites
// ------------------------------------------------------------------------------------------------

const REQUIRED = [
  { binary: 'mosquitto', pkg: 'mosquitto' },
  { binary: 'redis-server', pkg: 'redis-server' },
  { binary: 'victoria-metrics', pkg: 'victoria-metrics' },
] as const;

function findBinary(name: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(':').filter(Boolean);
  for (const d of [...dirs, '/usr/sbin', '/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin']) {
    const candidate = path.join(d, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

function ensurePrerequisites(): { mosquitto: string; redis: string; vm: string } {
  const missing = () => REQUIRED.filter((r) => findBinary(r.binary) === undefined);
  let gone = missing();
  if (gone.length > 0) {
    const names = gone.map((r) => r.binary).join(', ');
    const installCmd = 'apt-get update && apt-get install -y mosquitto redis-server victoria-metrics';
    const isRoot = process.getuid?.() === 0;
    const aptGet = findBinary('apt-get');
    if (isRoot && aptGet !== undefined) {
      out(`demo: ${names} not found; installing with: ${installCmd}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const update = spawnSync(aptGet, ['update'], { stdio: 'inherit', env });
      const install =
        update.status === 0
          ? spawnSync(aptGet, ['install', '-y', 'mosquitto', 'redis-server', 'victoria-metrics'], { stdio: 'inherit', env })
          : update;
      gone = missing();
      if (install.status !== 0 || gone.length > 0) {
        err(`demo: the installation failed (${gone.map((r) => r.binary).join(', ') || 'apt-get error'}).`);
        err(`demo: install them yourself and run the demo again:\n  ${installCmd}`);
        process.exit(1);
      }
    } else {
      err(`demo: missing ${names}: the demo runs its own private Mosquitto, Redis and VictoriaMetrics.`);
      err(`demo: install them (Debian/Ubuntu) and run the demo again:`);
      err(`  sudo apt-get update && sudo apt-get install -y ${gone.map((r) => r.pkg).join(' ')}`);
      process.exit(1);
    }
  }
  return {
    mosquitto: findBinary('mosquitto') as string,
    redis: findBinary('redis-server') as string,
    vm: findBinary('victoria-metrics') as string,
  };
}

/**
 * The harness spawns servers in our process group, so a Ctrl-C in the terminal would reach them
 * directly and they would be gone before the final check. A tiny wrapper puts each server in a
 * session of its own (`setsid` execs in place: same pid, `setpriv --pdeathsig` still applies);
 * the demo stops them itself.
 */
function sessionWrapper(dir: string, binary: string): string {
  const setsid = findBinary('setsid');
  if (setsid === undefined) return binary;
  const file = path.join(dir, path.basename(binary));
  fs.writeFileSync(file, `#!/bin/sh\nexec ${setsid} ${binary} "$@"\n`, { mode: 0o755 });
  return file;
}

// ------------------------------------------------------------------------------------------------
// Gateway status
// ------------------------------------------------------------------------------------------------

interface SinkStatus {
  name: string;
  breaker: string;
  pointsWritten: number;
  pointsRejected: number;
  pointsDropped: number;
  backlog: { points: number };
}
interface GatewayStatus {
  messages: { received: number; accepted: number; unrouted: number; rejected: number };
  sinks: SinkStatus[];
}

async function getJson<T>(url: string, timeoutMs = 2000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  return (await res.json()) as T;
}

async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

const rate = (now: number, before: number, seconds: number): string => String(Math.round((now - before) / seconds));

// ------------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------------

interface State {
  phase: 'starting' | 'running' | 'stopping';
  demoDir: string;
  gateway: ChildProcess | undefined;
  gatewayExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  mosquitto: MosquittoHandle | undefined;
  redis: RedisHandle | undefined;
  vm: VictoriaMetricsHandle | undefined;
  sim: Simulator | undefined;
  stopRequested: ((why: string) => void) | undefined;
  firstSignalAt: number;
}

async function main(): Promise<number> {
  const args = parseDemoArgs(process.argv.slice(2));
  if (!fs.existsSync(MAIN_JS)) {
    err(`demo: ${MAIN_JS} not found: run \`npm run build\` first (npm run demo does).`);
    return 1;
  }
  const bins = ensurePrerequisites();

  const state: State = {
    phase: 'starting',
    demoDir: fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-demo-')),
    gateway: undefined,
    gatewayExit: undefined,
    mosquitto: undefined,
    redis: undefined,
    vm: undefined,
    sim: undefined,
    stopRequested: undefined,
    firstSignalAt: 0,
  };
  const removeDemoDir = (): void => {
    if (process.env['EDGEBRIDGE_KEEP_TMP'] === '1') return;
    try {
      fs.rmSync(state.demoDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  };
  // Last resort (also on process.exit): no gateway left behind, no temp dir. The harness's own exit hook
  // SIGKILLs the servers it started.
  process.on('exit', () => {
    if (state.gateway?.exitCode === null && state.gateway.signalCode === null) state.gateway.kill('SIGKILL');
    removeDemoDir();
  });

  const onSignal = (signal: NodeJS.Signals): void => {
    if (state.phase === 'starting') {
      err(`\ndemo: ${signal} during start-up: cleaning up`);
      process.exit(130);
    }
    if (state.phase === 'running') {
      state.firstSignalAt = Date.now();
      state.stopRequested?.(signal);
      return;
    }
    // npm forwards the terminal's Ctrl-C to us as a second SIGINT: only a later one forces the exit.
    if (Date.now() - state.firstSignalAt > 1500) {
      err(`\ndemo: ${signal} again: killing everything now`);
      process.exit(130);
    }
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  const ourListeners = new Map((['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, new Set(process.listeners(s))]));

  // -------------------------------------------------------------------------------- servers
  out(`edgebridge demo: ${args.devices} devices, ${args.rate} msg/s, QoS 1, ` +
    (args.duration === undefined ? 'until Ctrl-C' : `for ${args.duration} s`));
  out(`demo: starting Mosquitto, Redis and VictoriaMetrics on free loopback ports in ${state.demoDir}`);
  const binDir = path.join(state.demoDir, 'bin');
  fs.mkdirSync(binDir);
  // The harness makes each server's dir under os.tmpdir(): point it at the demo dir so all is in one place.
  const savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = state.demoDir;
  try {
    [state.mosquitto, state.redis, state.vm] = await Promise.all([
      startMosquitto({ command: sessionWrapper(binDir, bins.mosquitto) }),
      startRedis({ command: sessionWrapper(binDir, bins.redis) }),
      startVictoriaMetrics({ command: sessionWrapper(binDir, bins.vm), extraArgs: ['-loggerLevel=ERROR'] }),
    ]);
  } catch (e) {
    err(`demo: a server did not start: ${(e as Error).message}`);
    await stopServers(state);
    return 1;
  } finally {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
  }
  // The harness (made for tests) SIGKILLs its servers on the first SIGINT/SIGTERM: the demo wants to
  // stop them in order after its final check, so only our handler stays (its exit hook remains).
  for (const [s, ours] of ourListeners) {
    for (const l of process.listeners(s)) if (!ours.has(l)) process.removeListener(s, l as (...a: unknown[]) => void);
  }
  const mosquitto = state.mosquitto;
  const redis = state.redis;
  const vm = state.vm;

  // -------------------------------------------------------------------------------- gateway
  const httpPort = await freePort();
  const gwBase = `http://127.0.0.1:${httpPort}`;
  const logFile = path.join(state.demoDir, 'gateway.log');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EDGEBRIDGE_')) env[k] = v;
  Object.assign(env, {
    EDGEBRIDGE_GATEWAY_ID: GATEWAY_ID,
    EDGEBRIDGE_MQTT_URL: mosquitto.url,
    EDGEBRIDGE_MQTT_CLIENT_ID: `edgebridge-demo-${process.pid}`,
    EDGEBRIDGE_INFLUX_URL: vm.url,
    EDGEBRIDGE_INFLUX_TOKEN: 'demo-token',
    EDGEBRIDGE_INFLUX_ORG: 'demo',
    EDGEBRIDGE_INFLUX_BUCKET: 'demo',
    EDGEBRIDGE_REDIS_URL: redis.url,
    EDGEBRIDGE_HTTP_HOST: '127.0.0.1',
    EDGEBRIDGE_HTTP_PORT: String(httpPort),
    EDGEBRIDGE_SPOOL_DIR: path.join(state.demoDir, 'spool'),
    EDGEBRIDGE_LOG_LEVEL: 'warn',
  });
  const logFd = fs.openSync(logFile, 'a');
  // Own process group (detached): a Ctrl-C reaches only the demo, which then stops the gateway with SIGTERM.
  // setpriv --pdeathsig: the kernel kills the gateway should the demo itself be killed.
  const setpriv = findBinary('setpriv');
  const [file, argv] =
    setpriv === undefined
      ? [process.execPath, [MAIN_JS]]
      : [setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, MAIN_JS]];
  const gateway = spawn(file, argv, { cwd: ROOT, env, stdio: ['ignore', logFd, logFd], detached: true });
  fs.closeSync(logFd);
  state.gateway = gateway;
  state.gatewayExit = new Promise((resolve) => {
    gateway.once('exit', (code, signal) => resolve({ code, signal }));
    gateway.once('error', (e) => {
      err(`demo: cannot start the gateway: ${e.message}`);
      resolve({ code: null, signal: null });
    });
  });
  const gatewayDied = (): boolean => gateway.exitCode !== null || gateway.signalCode !== null;
  try {
    await waitFor(async () => gatewayDied() || (await httpStatus(`${gwBase}/readyz`)) === 200, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `the gateway did not answer 200 on ${gwBase}/readyz`,
    });
    if (gatewayDied()) throw new Error(`the gateway exited (code ${gateway.exitCode}, signal ${gateway.signalCode})`);
  } catch (e) {
    err(`demo: ${(e as Error).message}. Last lines of ${logFile}:\n${tailFile(logFile, 20)}`);
    await stopGateway(state);
    await stopServers(state);
    return 1;
  }

  // -------------------------------------------------------------------------------- where to look
  out('');
  out('Where to look (while the demo runs):');
  out(`  gateway status   curl -s ${gwBase}/status`);
  out(`  health           ${gwBase}/healthz   ${gwBase}/readyz   ${gwBase}/metrics`);
  out(`  InfluxDB side    curl -s ${vm.url}/internal/force_flush; curl -sg '${vm.url}/api/v1/export?match[]=climate_t' | head -n 3`);
  out(`                   (VictoriaMetrics on ${vm.url} stands in for InfluxDB: the gateway writes ${vm.url}/api/v2/write)`);
  out(`  Redis            redis-cli -p ${redis.port} HGETALL 'eb:latest:{dev1}:climate'`);
  out(`                   redis-cli -p ${redis.port} XLEN 'eb:stream:{climate}'`);
  out(`  MQTT             mosquitto_sub -p ${mosquitto.port} -t 'sensors/#' -v`);
  out(`  gateway log      ${logFile}`);
  out('');

  // -------------------------------------------------------------------------------- simulator
  try {
    state.sim = await runSimulator({
      url: mosquitto.url,
      devices: args.devices,
      rate: args.rate,
      qos: 1,
      connections: 4,
      clientIdPrefix: 'edgebridge-demo-sim',
    });
  } catch (e) {
    err(`demo: ${(e as Error).message}`);
    await stopGateway(state);
    await stopServers(state);
    return 1;
  }
  const sim = state.sim;
  state.phase = 'running';

  let why = 'end of --duration';
  const stopSignal = new Promise<void>((resolve) => {
    state.stopRequested = (reason) => {
      why = reason;
      resolve();
    };
  });
  let durationTimer: NodeJS.Timeout | undefined;
  const durationDone =
    args.duration === undefined
      ? new Promise<void>(() => undefined)
      : new Promise<void>((resolve) => {
          durationTimer = setTimeout(resolve, (args.duration as number) * 1000);
        });
  out(`demo: running${args.duration === undefined ? ' (Ctrl-C to stop)' : ''}; one line every ${REPORT_EVERY_MS / 1000} s`);

  let lastGood = await getJson<GatewayStatus>(`${gwBase}/status`).catch(() => undefined);
  let last: { at: number; sim: SimStats; gw: GatewayStatus | undefined } = { at: Date.now(), sim: sim.stats(), gw: lastGood };
  const report = async (): Promise<void> => {
    const now = Date.now();
    const s = sim.stats();
    let gw: GatewayStatus | undefined;
    try {
      gw = await getJson<GatewayStatus>(`${gwBase}/status`);
      lastGood = gw;
    } catch {
      gw = undefined;
    }
    const dt = Math.max(0.001, (now - last.at) / 1000);
    const parts = [`${s.elapsedSeconds.toFixed(0).padStart(4)}s`, `pub ${rate(s.published, last.sim.published, dt)}/s`];
    if (gw === undefined) {
      parts.push(gatewayDied() ? 'gateway EXITED' : 'gateway /status not answering');
    } else {
      const prev = last.gw;
      parts.push(`recv ${prev ? rate(gw.messages.received, prev.messages.received, dt) : '-'}/s`);
      for (const sink of gw.sinks) {
        const before = prev?.sinks.find((p) => p.name === sink.name);
        parts.push(`${sink.name} ${before ? rate(sink.pointsWritten, before.pointsWritten, dt) : '-'}/s (${sink.pointsWritten})`);
      }
      parts.push(`backlog ${gw.sinks.map((k) => k.backlog.points).join('/')}`);
      parts.push(`breaker ${gw.sinks.map((k) => k.breaker).join('/')}`);
    }
    out(parts.join('  '));
    last = { at: now, sim: s, gw };
  };
  const timer = setInterval(() => void report(), REPORT_EVERY_MS);

  await Promise.race([stopSignal, durationDone, state.gatewayExit.then(() => void (why = 'the gateway exited'))]);
  clearInterval(timer);
  clearTimeout(durationTimer);
  state.phase = 'stopping';
  state.firstSignalAt ||= Date.now();

  // -------------------------------------------------------------------------------- shutdown + checks
  out(`\ndemo: stopping (${why}): simulator, then gateway (SIGTERM), then the checks`);
  const simStats = await sim.stop();
  // Let the gateway catch up with what the broker acknowledged, so the last /status is complete.
  let finalStatus = lastGood;
  if (!gatewayDied()) {
    try {
      finalStatus = await waitFor(
        async () => {
          const st = await getJson<GatewayStatus>(`${gwBase}/status`);
          finalStatus = st;
          const caughtUp = st.messages.received >= simStats.acknowledged && st.sinks.every((k) => k.backlog.points === 0);
          return caughtUp ? st : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
    } catch {
      // keep the last status we got
    }
  }
  const gwExit = await stopGateway(state);

  const sinkLines: string[] = [];
  for (const sink of finalStatus?.sinks ?? []) {
    sinkLines.push(
      `${sink.name} ${sink.pointsWritten} written` +
        (sink.pointsRejected ? `, ${sink.pointsRejected} rejected` : '') +
        (sink.pointsDropped ? `, ${sink.pointsDropped} dropped` : '') +
        (sink.backlog.points ? `, ${sink.backlog.points} in backlog` : ''),
    );
  }

  // VictoriaMetrics: a climate_t series per device?
  let vmOk = false;
  let vmLine: string;
  try {
    const series: ExportedSeries[] = await vm.exportSeries('climate_t');
    const devices = new Set(series.filter((x) => x.metric['gateway'] === GATEWAY_ID).map((x) => x.metric['device']));
    const samples = series.reduce((n, x) => n + x.values.length, 0);
    const expected = Math.min(args.devices, simStats.acknowledged);
    vmOk = samples > 0;
    vmLine =
      `${devices.size} climate_t series (${devices.size}/${expected} devices), ${samples} samples` +
      (devices.size < expected ? '  (some devices have no series!)' : '');
  } catch (e) {
    vmLine = `export failed: ${(e as Error).message}`;
  }

  // Redis: dev1's latest values and the stream.
  let redisOk = false;
  let redisLine: string;
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 });
  try {
    await client.connect();
    const latest = await client.hgetall('eb:latest:{dev1}:climate');
    const times = await client.hgetall('eb:latest:{dev1}:climate:ts').catch(() => ({}) as Record<string, string>);
    const newest = Math.max(0, ...Object.values(times).map(Number).filter(Number.isFinite));
    const xlen = await client.xlen('eb:stream:{climate}');
    redisOk = Object.keys(latest).length > 0;
    const values = Object.entries(latest).map(([k, v]) => `${k}=${v}`).join(' ');
    const when = newest > 0 ? ` @ ${new Date(newest).toISOString()}` : '';
    redisLine = `dev1 latest {${values || 'none!'}}${when}; stream eb:stream:{climate} length ${xlen}`;
  } catch (e) {
    redisLine = `read failed: ${(e as Error).message}`;
  } finally {
    client.disconnect();
  }

  await stopServers(state);
  removeDemoDir();

  const mark = (ok: boolean): string => (ok ? 'OK  ' : 'FAIL');
  out('');
  out('Summary');
  out(`  simulator        published ${simStats.published}, acknowledged by the broker ${simStats.acknowledged}` +
    (simStats.skipped ? `, skipped ${simStats.skipped}` : '') + ` in ${simStats.elapsedSeconds.toFixed(1)} s`);
  if (finalStatus !== undefined) {
    const m = finalStatus.messages;
    out(`  gateway          received ${m.received}, accepted ${m.accepted}, unrouted ${m.unrouted}, rejected ${m.rejected}; ` +
      `exit ${gwExit.signal ?? gwExit.code}`);
    out(`  sinks            ${sinkLines.join('; ')}`);
  } else {
    out(`  gateway          no /status answer; exit ${gwExit.signal ?? gwExit.code}; log: see below`);
  }
  out(`  ${mark(vmOk)} InfluxDB   ${vmLine}`);
  out(`  ${mark(redisOk)} Redis      ${redisLine}`);
  const ok = vmOk && redisOk;
  if (!ok) {
    const tail = tailFile(logFile, 20);
    if (tail) out(`\nLast lines of the gateway log:\n${tail}`);
  }
  out(ok ? '\ndemo: data landed in both sinks.' : '\ndemo: FAILED: data did not land in both sinks.');
  return ok ? 0 : 1;
}

/** SIGTERM the gateway and wait for it to exit (SIGKILL after 20 s). */
async function stopGateway(state: State): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const gw = state.gateway;
  if (gw === undefined || state.gatewayExit === undefined) return { code: null, signal: null };
  if (gw.exitCode === null && gw.signalCode === null) gw.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    state.gatewayExit,
    new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), 20_000);
    }),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    err('demo: the gateway did not exit within 20 s of SIGTERM: SIGKILL');
    gw.kill('SIGKILL');
    return state.gatewayExit;
  }
  return result;
}

/** SIGTERM each server (VictoriaMetrics flushes), wait, remove their dirs. */
async function stopServers(state: State): Promise<void> {
  await Promise.all(
    [state.mosquitto, state.redis, state.vm].map(async (s) => {
      if (s === undefined) return;
      try {
        await s.stop();
      } finally {
        await s.destroy().catch(() => undefined);
      }
    }),
  );
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
