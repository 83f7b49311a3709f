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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tailFile, waitFor, type GatewayProcess } from '../test/harness/index.ts';
import type { GatewayStatus } from '../test/harness/index.ts';
import { parseDemoArgs, type DemoArgs } from './demo/demoArgs.ts';
import { checkRedis, checkVictoriaMetrics } from './demo/demoChecks.ts';
import { DemoReporter, getJson } from './demo/DemoReporter.ts';
import { GATEWAY_ID, startDemoGateway, stopDemoGateway } from './demo/demoGateway.ts';
import { printSummary, whereToLook } from './demo/demoOutput.ts';
import { startDemoServers, stopDemoServers, type DemoServers, type StartedServers } from './demo/demoServers.ts';
import { ensurePrerequisites } from './demo/prerequisites.ts';
import { runSimulator } from './simulator.ts';
import type { Simulator } from './simulator.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_JS = path.join(ROOT, 'dist', 'main.js');
const REPORT_EVERY_MS = 2000;

const out = (line = ''): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

interface State {
  phase: 'starting' | 'running' | 'stopping';
  demoDir: string;
  gateway: GatewayProcess | undefined;
  servers: DemoServers;
  sim: Simulator | undefined;
  stopRequested: ((why: string) => void) | undefined;
  firstSignalAt: number;
}

/** Ctrl-C while running stops the demo in order; during start-up, or a later second one, exits at once. */
function handleSignals(state: State): void {
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
    servers: { mosquitto: undefined, redis: undefined, vm: undefined },
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
    if (state.gateway !== undefined && !state.gateway.exitedAlready) state.gateway.signal('SIGKILL');
    removeDemoDir();
  });
  handleSignals(state);

  out(
    `edgebridge demo: ${args.devices} devices, ${args.rate} msg/s, QoS 1, ` +
      (args.duration === undefined ? 'until Ctrl-C' : `for ${args.duration} s`),
  );
  out(`demo: starting Mosquitto, Redis and VictoriaMetrics on free loopback ports in ${state.demoDir}`);
  try {
    await startDemoServers(state.servers, state.demoDir, bins);
  } catch (e) {
    err(`demo: a server did not start: ${(e as Error).message}`);
    await stopDemoServers(state.servers);
    return 1;
  }
  const logFile = path.join(state.demoDir, 'gateway.log');
  let gateway: GatewayProcess;
  try {
    gateway = await startDemoGateway(state.servers as StartedServers, state.demoDir, logFile, (gw) => (state.gateway = gw));
  } catch (e) {
    err(`demo: ${(e as Error).message}. Last lines of ${logFile}:\n${tailFile(logFile, 20)}`);
    await stopDemoGateway(state.gateway);
    await stopDemoServers(state.servers);
    return 1;
  }
  whereToLook(state.servers as StartedServers, gateway.url, logFile);
  try {
    state.sim = await runSimulator({
      url: state.servers.mosquitto!.url,
      devices: args.devices,
      rate: args.rate,
      qos: 1,
      connections: 4,
      clientIdPrefix: 'edgebridge-demo-sim',
    });
  } catch (e) {
    err(`demo: ${(e as Error).message}`);
    await stopDemoGateway(state.gateway);
    await stopDemoServers(state.servers);
    return 1;
  }
  const ok = await runAndCheck(state, state.sim, gateway, args, logFile);
  removeDemoDir();
  return ok ? 0 : 1;
}

/** Runs until Ctrl-C, --duration or the gateway's exit; then stops everything and checks both sinks. */
async function runAndCheck(state: State, sim: Simulator, gateway: GatewayProcess, args: DemoArgs, logFile: string): Promise<boolean> {
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
  const reporter = new DemoReporter(sim, gateway.url, () => gateway.exitedAlready, out);
  await reporter.start(REPORT_EVERY_MS);
  await Promise.race([stopSignal, durationDone, gateway.exited().then(() => void (why = 'the gateway exited'))]);
  reporter.stop();
  clearTimeout(durationTimer);
  state.phase = 'stopping';
  state.firstSignalAt ||= Date.now();

  out(`\ndemo: stopping (${why}): simulator, then gateway (SIGTERM), then the checks`);
  const simStats = await sim.stop();
  // Let the gateway catch up with what the broker acknowledged, so the last /status is complete.
  let finalStatus = reporter.lastGood;
  if (!gateway.exitedAlready) {
    try {
      finalStatus = await waitFor(
        async () => {
          const st = await getJson<GatewayStatus>(`${gateway.url}/status`);
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
  const gwExit = await stopDemoGateway(state.gateway);
  const vmCheck = await checkVictoriaMetrics(state.servers.vm!, GATEWAY_ID, args.devices, simStats.acknowledged);
  const redisCheck = await checkRedis(state.servers.redis!);
  await stopDemoServers(state.servers);

  const ok = printSummary({ simStats, finalStatus, gwExit, vmCheck, redisCheck, logFile });
  out(ok ? '\ndemo: data landed in both sinks.' : '\ndemo: FAILED: data did not land in both sinks.');
  return ok;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
