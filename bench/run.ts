/**
 * edgebridge benchmark: `npm run bench` (= build, then `node bench/run.ts`).
 *
 *   node bench/run.ts [--quick] [--reps N] [--publishers N] [--profile] [--tuned | --node-options=FLAGS] [--peer node-red [--peer-only]]
 *   node bench/run.ts --fsync-only [--connections 1,2,4,8] [--quick]     only the ack=fsync phase, per count
 *   node bench/run.ts --fsync-only --connections 8,16 --compare OTHER/dist/main.js --reps 3   A/B, alternating
 *
 * One run starts its own Mosquitto (max_queued/inflight 0), redis-server and VictoriaMetrics on free loopback
 * ports, then measures, in this order:
 *   at rest     idle RSS, idle CPU, spawn → /readyz 200
 *   ceiling vs  per repetition, side by side: a bare counting mqtt.js subscriber (child process), then the
 *   gateway     gateway with both sinks, on the same publisher fleet and broker; QoS 0 and QoS 1 (ack=write)
 *   fsync       the gateway at QoS 1 with spool.ack=fsync (once; mqtt.connections from --connections, else auto)
 *   sweep       fixed-rate steps → the highest rate with zero loss and p99 latency < flush interval + 250 ms
 *   catch-up    VictoriaMetrics down while a backlog builds in the spool, then restarted under live traffic
 * and prints a table plus one `{"bench":...}` JSON line, both also written to bench/results/latest.{txt,json}.
 * `--quick`: small counts, asserts only that everything landed (exit 1 if not); it never judges timing.
 * EDGEBRIDGE_BENCH_PROFILE=1 (or --profile) runs every gateway under `node --cpu-prof` and adds the top
 * self-time functions of the QoS 0 and QoS 1 gateway runs to the output.
 * `--tuned` runs the gateway with the systemd unit's runtime environment (heap limits, malloc arenas; see
 * `unitEnvironment.ts`) and writes bench/results/tuned.{txt,json}; `npm run bench` uses Node's defaults.
 *
 * `--peer node-red` adds, after the catch-up, the gateway and Node-RED side by side on the same servers and message
 * set (bench/peers/peerComparison.ts, bench/results/peer-node-red.*); with `--peer-only` that is all the run does.
 *
 * Each phase is a file of its own (atRest, ceiling, gatewayRun, sweep, catchUp, scaling); this file runs them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { median, round, runAsMain, withScenario, type AckMode, type Scenario } from '../test/harness/index.ts';
import { atRest } from './atRest.ts';
import {
  benchArgs,
  benchParams,
  HERE,
  RESULTS,
  runtimeEnvironment,
  startGateway,
  useUnitExecStart,
  type BenchArgs,
  type BenchContext,
} from './BenchContext.ts';
import { catchUp, type CatchUpResult } from './catchUp.ts';
import { ceilingRun, type CeilingResult } from './ceiling.ts';
import { fmt, mb, memText } from './format.ts';
import { PROFILE_DIR } from './gateway.ts';
import { checkLanded, gatewayRun, type GatewayRunResult, type Load } from './gatewayRun.ts';
import { topSelfTime, type SelfTime } from './profile.ts';
import { benchJson } from './reportJson.ts';
import { PEERS, peerComparison } from './peers/peerComparison.ts';
import { benchText } from './reportText.ts';
import { scaling } from './scaling.ts';
import { sweep, type SweepResult } from './sweep.ts';

const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const argv = benchArgs();
  const quick = argv.quick === true;
  const profile = argv.profile === true || process.env.EDGEBRIDGE_BENCH_PROFILE === '1';
  const runtimeEnv = runtimeEnvironment(argv);
  useUnitExecStart(argv);
  const runtimeText =
    [
      ...Object.entries(runtimeEnv).map(([k, v]) => `${k}='${v}'`),
      ...(process.env.EDGEBRIDGE_TEST_NODE ? [`node ${process.env.EDGEBRIDGE_TEST_NODE.split(/\s+/).slice(1).join(' ')}`] : []),
      ...(process.env.EDGEBRIDGE_TEST_MAIN ? [path.relative(path.join(HERE, '..'), process.env.EDGEBRIDGE_TEST_MAIN)] : []),
    ].join(' ') || 'default runtime settings';
  const started = performance.now();
  if (argv.peer !== undefined && !(PEERS as readonly string[]).includes(argv.peer))
    throw new Error(`--peer ${argv.peer}: unknown peer; known: ${PEERS.join(', ')}`);
  if (argv['peer-only'] && argv.peer === undefined) throw new Error('--peer-only needs --peer (e.g. --peer node-red)');
  fs.mkdirSync(RESULTS, { recursive: true });
  if (profile) fs.rmSync(PROFILE_DIR, { recursive: true, force: true });
  log(`starting servers (${quick ? 'quick' : 'full'} mode, ${os.cpus().length} cores)`);
  await withScenario('bench', log, async (scenario) => {
    const servers = await scenario.servers({ victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] } });
    const redis = new Redis(servers.rd.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    scenario.defer(() => redis.quit());
    const b: BenchContext = { ...servers, scenario, problems: scenario.problems, P: benchParams(argv), quick, profile, runtimeEnv, redis };
    if (argv['catch-up-only'] !== undefined) return catchUpOnly(b, Number(argv['catch-up-only']));
    if (argv.scaling === true) return scaling(b, runtimeText);
    if (argv['fsync-only'] === true) return fsyncOnly(b, argv, runtimeText);
    if (argv['peer-only'] === true) return peerComparison(b, argv, runtimeText);
    if (argv['memory-only'] === true) return memoryOnly(b, Number(argv.rate), Number(argv.seconds), runtimeText);
    await fullRun(b, argv, scenario, runtimeText, started);
  });
}

/** A fresh gateway for one measured load, stopped after it. */
async function onFreshGateway(
  b: BenchContext,
  name: string,
  label: string,
  measurement: string,
  qos: 0 | 1,
  ack: AckMode,
  load: Load,
): Promise<GatewayRunResult> {
  const gw = await startGateway(b, name, qos, ack);
  try {
    return await gatewayRun(b, gw, label, measurement, qos, ack, load);
  } finally {
    await gw.stop();
  }
}

interface MaxRate {
  ceil0: CeilingResult[];
  ceil1: CeilingResult[];
  gw0: GatewayRunResult[];
  gw1: GatewayRunResult[];
}

/** Per repetition: ceiling QoS 0, gateway QoS 0, ceiling QoS 1, gateway QoS 1 ack=write. */
async function maxRate(b: BenchContext, s: Scenario): Promise<MaxRate> {
  const { P } = b;
  const r: MaxRate = { ceil0: [], ceil1: [], gw0: [], gw1: [] };
  const rate = (x: { msgPerSec: number; cpuUsPerMsg: number }): string => `${fmt(x.msgPerSec)} msg/s, ${fmt(x.cpuUsPerMsg, 1)} µs/msg`;
  for (let rep = 1; rep <= P.reps; rep++) {
    log(`rep ${rep}/${P.reps}: ceiling QoS 0 (${P.maxRateCount} msgs)`);
    r.ceil0.push(await s.timed('ceiling', () => ceilingRun(b, 0, P.maxRateCount, `q0r${rep}`)));
    log(`  ${rate(r.ceil0.at(-1)!)}; gateway QoS 0`);
    r.gw0.push(
      await s.timed('gateway max rate', () =>
        onFreshGateway(b, `q0-rep${rep}`, `gateway QoS 0 rep ${rep}`, `q0r${rep}`, 0, 'write', { count: P.maxRateCount }),
      ),
    );
    checkLanded(b, r.gw0.at(-1)!);
    log(`  ${rate(r.gw0.at(-1)!)}; ceiling QoS 1`);
    r.ceil1.push(await s.timed('ceiling', () => ceilingRun(b, 1, P.maxRateCount, `q1r${rep}`)));
    log(`  ${rate(r.ceil1.at(-1)!)}; gateway QoS 1 ack=write`);
    r.gw1.push(
      await s.timed('gateway max rate', () =>
        onFreshGateway(b, `q1w-rep${rep}`, `gateway QoS 1 write rep ${rep}`, `q1wr${rep}`, 1, 'write', { count: P.maxRateCount }),
      ),
    );
    checkLanded(b, r.gw1.at(-1)!);
    log(`  ${rate(r.gw1.at(-1)!)}`);
  }
  return r;
}

async function fullRun(b: BenchContext, argv: BenchArgs, s: Scenario, runtimeText: string, started: number): Promise<void> {
  const { P } = b;
  const rest = await s.timed('at rest', () => atRest(b));
  log(
    `at rest: ready in ${round(rest.readyMs)} ms, RSS ${mb(rest.idleRssBytes)}, idle CPU ${round(rest.idleCpuMs)} ms / ${rest.idleSeconds} s`,
  );
  const mr = await maxRate(b, s);
  if (argv['max-rate-only'] === true) {
    await s.close();
    return maxRateOnly(b, mr);
  }
  log(`gateway QoS 1 ack=fsync (${P.fsyncCount} msgs)`);
  const connections = argv.connections?.split(',')[0];
  const fsyncRun = await s.timed('gateway fsync', () => fsyncPhase(b, connections, 'q1f'));
  checkLanded(b, fsyncRun);
  log(`  ${fmt(fsyncRun.msgPerSec)} msg/s`);

  const sweepGw = await startGateway(b, 'sweep-catchup', 1, 'write');
  let sw: SweepResult;
  let cu: CatchUpResult;
  try {
    sw = await s.timed('sweep', () => sweep(b, sweepGw));
    // Live traffic during the catch-up: a quarter of the highest steady rate, i.e. a gateway sized with the
    // headroom docs/sizing.md asks for. At the highest steady rate itself there is, by definition, no
    // capacity left to drain a backlog faster than it grows.
    const liveRate = Math.max(P.sweepRates[0]!, Math.round((sw.maxSteadyRate > 0 ? sw.maxSteadyRate : P.sweepRates[0]!) / 4 / 1000) * 1000);
    cu = await s.timed('catch-up', () => catchUp(b, sweepGw, liveRate));
  } finally {
    await sweepGw.stop();
  }
  log(`catch-up: ${fmt(cu.netDrainRate)} points/s net drain at ${cu.liveRate} msg/s live (${fmt(cu.ratio, 1)}×)`);
  if (argv.peer !== undefined) await s.timed('peer', () => peerComparison(b, argv, runtimeText));
  await s.close();

  // Profiles are written when each gateway exits.
  let profiles: Record<string, { totalMs: number; top: SelfTime[] }> | undefined;
  if (b.profile) {
    profiles = {};
    for (const name of ['q0-rep1', 'q1w-rep1']) {
      const file = path.join(PROFILE_DIR, `${name}.cpuprofile`);
      if (fs.existsSync(file)) profiles[name] = topSelfTime(file, 12);
    }
  }
  const runs = { rest, ...mr, fsyncRun, sw, cu, profiles, totalSeconds: (performance.now() - started) / 1000 };
  const json = benchJson(b, runs);
  const text = benchText(b, runs, json, runtimeText);
  const jsonLine = JSON.stringify(json);
  process.stdout.write(text);
  process.stdout.write(jsonLine + '\n');
  // A --quick run (the test) or a profiled run (slower gateway) never overwrites the full run's figures.
  const base = b.quick ? 'quick' : b.profile ? 'profiled' : argv.tuned ? 'tuned' : 'latest';
  fs.writeFileSync(path.join(RESULTS, `${base}.txt`), text);
  fs.writeFileSync(path.join(RESULTS, `${base}.json`), jsonLine + '\n');
  if (b.problems.length > 0) process.exitCode = 1;
}

/** `--max-rate-only`: the ratios of the repetitions (and with --profile the top functions); nothing saved. */
function maxRateOnly(b: BenchContext, { ceil0, ceil1, gw0, gw1 }: MaxRate): void {
  const ratio = (g: GatewayRunResult[], c: CeilingResult[]): string =>
    `cpu ${fmt(median(g.map((x, i) => x.cpuUsPerMsg / c[i]!.cpuUsPerMsg)), 2)}× thr ${fmt(median(g.map((x, i) => x.msgPerSec / c[i]!.msgPerSec)) * 100, 1)} %`;
  process.stdout.write(
    `max-rate-only: QoS 0 ${ratio(gw0, ceil0)}; QoS 1 ${ratio(gw1, ceil1)}; peak RSS ${mb(Math.max(...gw0.map((g) => g.peakRssBytes), ...gw1.map((g) => g.peakRssBytes)))}\n`,
  );
  for (const name of b.profile ? ['q0-rep1', 'q1w-rep1'] : []) {
    const file = path.join(PROFILE_DIR, `${name}.cpuprofile`);
    if (!fs.existsSync(file)) continue;
    const { totalMs, top } = topSelfTime(file, 25);
    process.stdout.write(`profile ${name}: ${totalMs} ms non-idle\n`);
    for (const t of top) process.stdout.write(`  ${String(t.pct).padStart(5)} %  ${t.fn}\n`);
  }
}

/** `--memory-only`: at rest (idle RSS beside the floor) and one fixed-rate QoS 0 run's peak RSS; nothing saved. */
async function memoryOnly(b: BenchContext, rate: number, seconds: number, runtimeText: string): Promise<void> {
  const rest = await atRest(b);
  const run = await onFreshGateway(b, 'memory', `gateway QoS 0 at ${rate} msg/s`, 'mem', 0, 'write', { rate, durationMs: seconds * 1000 });
  checkLanded(b, run);
  const f = rest.baseline;
  process.stdout.write(
    [
      `memory-only (${runtimeText}; RSS = anonymous + file-backed)`,
      `  bare Node ${memText(f.bare)}; + built-ins ${memText(f.builtins)}; + libraries ${memText(f.libraries)}`,
      `  gateway idle ${memText(rest.idle)}; ready in ${round(rest.readyMs)} ms`,
      `  gateway at ${rate} msg/s for ${seconds} s: peak RSS ${mb(run.peakRssBytes)}, ${fmt(run.msgPerSec)} msg/s received, ` +
        `${fmt(run.cpuUsPerMsg, 1)} µs CPU/msg, lost influx ${run.lost.influx} redis ${run.lost.redis}`,
      '',
    ].join('\n'),
  );
  if (b.problems.length > 0) {
    process.stdout.write(`problems: ${JSON.stringify(b.problems)}\n`);
    process.exitCode = 1;
  }
}

/**
 * The ack=fsync gateway with `connections` (undefined: the config's auto): its own gateway id, so its client ids
 * and share group are its own, and a clean session, so neither a plain nor a shared session of it stays at the
 * broker after the phase to take a copy or a turn of the next phases' messages.
 */
async function fsyncPhase(b: BenchContext, connections: string | undefined, measurement: string, main?: string): Promise<GatewayRunResult> {
  const env: Record<string, string> = { EDGEBRIDGE_GATEWAY_ID: `gw-bench-${measurement}`, EDGEBRIDGE_MQTT_CLEAN: 'true' };
  if (connections !== undefined) env.EDGEBRIDGE_MQTT_CONNECTIONS = connections;
  const gw = await startGateway(b, measurement, 1, 'fsync', env, main);
  try {
    const label = `gateway QoS 1 fsync, ${connections ?? 'auto'} connection(s)${main !== undefined ? ` (${main})` : ''}`;
    const r = await gatewayRun(b, gw, label, measurement, 1, 'fsync', { count: b.P.fsyncCount });
    // How the broker split the messages over the connections (status: mqtt.connections).
    const split = ((await gw.status()).mqtt as { connections?: { received: number }[] }).connections?.map((c) => c.received);
    log(`  ${label}: messages per connection ${JSON.stringify(split)}`);
    return r;
  } finally {
    await gw.stop();
  }
}

/**
 * `--fsync-only [--connections 1,2,4,8] [--reps N] [--compare OTHER/main.js]`: the ack=fsync phase alone, once per
 * connection count and repetition; with --compare, the other build and this one alternately (which goes first
 * alternates too), medians side by side. Each run has a measurement of its own (a repeated count would otherwise
 * find the earlier run's points). Nothing saved.
 */
async function fsyncOnly(b: BenchContext, argv: BenchArgs, runtimeText: string): Promise<void> {
  const counts = argv.connections === undefined ? [undefined] : argv.connections.split(',').map((c) => c.trim());
  const reps = argv.reps === undefined ? 1 : b.P.reps;
  const builds: { tag: string; main: string | undefined }[] = [
    ...(argv.compare !== undefined ? [{ tag: 'A', main: path.resolve(argv.compare) }] : []),
    { tag: argv.compare !== undefined ? 'B' : '', main: undefined },
  ];
  const lines: string[] = [];
  const rates = new Map<string, number[]>();
  for (let rep = 1; rep <= reps; rep++) {
    // Every other repetition in reverse (counts and builds): drift of the machine's load falls on all alike.
    const entries = [...counts.entries()];
    for (const [i, c] of rep % 2 === 1 ? entries : entries.reverse()) {
      const order = rep % 2 === 1 ? builds : [...builds].reverse();
      for (const { tag, main } of order) {
        const name = `${tag || 'this'} connections ${c ?? 'auto'}`;
        log(`gateway QoS 1 ack=fsync, ${name}, rep ${rep}/${reps} (${b.P.fsyncCount} msgs)`);
        const r = await fsyncPhase(b, c, `q1fc${c ?? 'auto'}i${i}r${rep}${tag}`, main);
        checkLanded(b, r);
        rates.set(name, [...(rates.get(name) ?? []), r.msgPerSec]);
        const line =
          `fsync ${tag ? `${tag} ` : ''}connections ${c ?? 'auto'} rep ${rep}: ${fmt(r.msgPerSec)} msg/s, ${fmt(r.cpuUsPerMsg, 1)} µs/msg, ` +
          `published ${r.published}, lost influx/redis ${r.lost.influx}/${r.lost.redis}, fsyncs ${r.fsyncs} ` +
          `(${fmt(r.received / Math.max(1, r.fsyncs), 2)} msg per fsync), peak RSS ${mb(r.peakRssBytes)}, load ${os.loadavg()[0]!.toFixed(2)}`;
        log(`  ${line}`);
        lines.push(line);
      }
    }
  }
  const medians = [...rates].map(([name, r]) => `${name}: median ${fmt(median(r))} msg/s of ${r.map((x) => fmt(x)).join(', ')}`);
  process.stdout.write(
    `fsync-only (${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${runtimeText}, ${b.P.publishers} publishers × ${b.P.connectionsPerPublisher} connections, window ${b.P.window}` +
      `${argv.compare !== undefined ? `, A = ${argv.compare}, B = this checkout` : ''}):\n${lines.join('\n')}\n${medians.join('\n')}\n` +
      `problems: ${JSON.stringify(b.problems)}\n`,
  );
  if (b.problems.length > 0) process.exitCode = 1;
}

/** `--catch-up-only RATE`: the catch-up phase alone, at this live rate. */
async function catchUpOnly(b: BenchContext, liveRate: number): Promise<void> {
  const gw = await startGateway(b, 'catch-up-only', 1, 'write');
  try {
    const cu = await catchUp(b, gw, liveRate);
    process.stdout.write(
      `catch-up-only: ${JSON.stringify(cu)}\nproblems: ${JSON.stringify(b.problems)}\nstatus: ${JSON.stringify((await gw.status()).mqtt)}\n`,
    );
  } finally {
    await gw.stop();
  }
}

runAsMain(import.meta, 'bench failed:', main);
