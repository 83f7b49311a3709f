/**
 * edgebridge benchmark: `npm run bench` (= build, then `node bench/run.ts`).
 *
 *   node bench/run.ts [--quick] [--reps N] [--publishers N] [--profile] [--tuned | --node-options=FLAGS]
 *
 * One run starts its own Mosquitto (max_queued/inflight 0), redis-server and VictoriaMetrics on free loopback
 * ports, then measures, in this order:
 *   at rest     idle RSS, idle CPU, spawn → /readyz 200
 *   ceiling vs  per repetition, side by side: a bare counting mqtt.js subscriber (child process), then the
 *   gateway     gateway with both sinks, on the same publisher fleet and broker; QoS 0 and QoS 1 (ack=write)
 *   fsync       the gateway at QoS 1 with spool.ack=fsync (once)
 *   sweep       fixed-rate steps → the highest rate with zero loss and p99 latency < flush interval + 250 ms
 *   catch-up    VictoriaMetrics down while a backlog builds in the spool, then restarted under live traffic
 * and prints a table plus one `{"bench":...}` JSON line, both also written to bench/results/latest.{txt,json}.
 * `--quick`: small counts, asserts only that everything landed (exit 1 if not); it never judges timing.
 * EDGEBRIDGE_BENCH_PROFILE=1 (or --profile) runs every gateway under `node --cpu-prof` and adds the top
 * self-time functions of the QoS 0 and QoS 1 gateway runs to the output.
 * `--tuned` runs the gateway with the systemd unit's runtime environment (heap limits, malloc arenas; see
 * `unitEnvironment.ts`) and writes bench/results/tuned.{txt,json}; `npm run bench` uses Node's defaults.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startMosquitto, startRedis, startVictoriaMetrics } from '../test/harness/index.ts';
import type { MosquittoHandle, RedisHandle, VictoriaMetricsHandle } from '../test/harness/index.ts';
import { Fleet } from './fleet.ts';
import type { FleetOptions, FleetResult } from './fleet.ts';
import { BenchGateway, PROFILE_DIR } from './gateway.ts';
import { unitEnvironment } from './unitEnvironment.ts';
import type { BenchStatus } from './gateway.ts';
import { cpuMicros, ioCounters, memoryBreakdown, peakRssBytes } from './procfs.ts';
import { topSelfTime } from './profile.ts';
import type { SelfTime } from './profile.ts';
import { dropRedisStreams, redisPoints, redisProbeLatencies, vmPoints, VmProbePoller } from './sinkCheck.ts';
import { median, percentile, round } from './stats.ts';
import type { SubscriberConfig, SubscriberMessage } from './subscriber.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, 'results');
const SUBSCRIBER = path.join(HERE, 'subscriber.ts');

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    publishers: { type: 'string' },
    profile: { type: 'boolean', default: false },
    // Only the ceiling-vs-gateway repetitions (no fsync, sweep, catch-up; results not saved): profiling loops.
    'max-rate-only': { type: 'boolean', default: false },
    // How throughput and CPU scale with batch size, number of devices and payload size (bench/results/scaling.*).
    scaling: { type: 'boolean', default: false },
    // Only the catch-up phase, at this live rate (msg/s): investigating the drain.
    'catch-up-only': { type: 'string' },
    // V8 flags for the gateway, e.g. "--max-old-space-size=64".
    'node-options': { type: 'string', default: '' },
    // The gateway runs with the systemd unit's runtime environment (NODE_OPTIONS, MALLOC_ARENA_MAX): results in tuned.*.
    tuned: { type: 'boolean', default: false },
  },
});
/** What the gateway (and the Node floor measured beside it) runs with besides the bench's own settings. */
const RUNTIME_ENV: Record<string, string> = argv.tuned
  ? unitEnvironment(path.join(HERE, '..', 'systemd', 'edgebridge.service'))
  : argv['node-options']
    ? { NODE_OPTIONS: argv['node-options'] }
    : {};
const RUNTIME_TEXT = Object.entries(RUNTIME_ENV).map(([k, v]) => `${k}='${v}'`).join(' ') || 'default runtime settings';
const QUICK = argv.quick === true;
const PROFILE = argv.profile === true || process.env.EDGEBRIDGE_BENCH_PROFILE === '1';
const FLUSH_INTERVAL_MS = 1000; // the sinks' default batch.flushIntervalMs, used by every gateway here
const P = {
  reps: Number(argv.reps ?? (QUICK ? 1 : 3)),
  publishers: Number(argv.publishers ?? 2),
  connectionsPerPublisher: 2,
  devices: 100,
  window: 1000,
  maxRateCount: QUICK ? 5_000 : 200_000,
  fsyncCount: QUICK ? 2_000 : 40_000,
  probeEvery: QUICK ? 100 : 1000,
  sweepRates: QUICK ? [1000] : [2000, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000],
  sweepMs: QUICK ? 3_000 : 10_000,
  latencyLimitMs: FLUSH_INTERVAL_MS + 250,
  backlogPoints: QUICK ? 20_000 : 1_000_000,
  idleSettleMs: QUICK ? 500 : 2_000,
  idleMs: QUICK ? 2_000 : 10_000,
  vmPollMs: 100,
  /** No progress for this long = stalled (reported as a problem, the phase moves on). */
  stallMs: QUICK ? 10_000 : 30_000,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
const problems: string[] = [];
const phaseSeconds: Record<string, number> = {};

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    phaseSeconds[name] = round((phaseSeconds[name] ?? 0) + (performance.now() - t0) / 1000, 1);
  }
}

// ------------------------------------------------------------------------------------------------
// Servers and the gateway's configuration
// ------------------------------------------------------------------------------------------------

let mq: MosquittoHandle;
let rd: RedisHandle;
let vm: VictoriaMetricsHandle;
let redis: Redis;

function gatewayEnv(qos: 0 | 1, ack: 'write' | 'fsync'): Record<string, string> {
  return {
    // One client id for every gateway of the run: one persistent session, which nothing publishes to while
    // no gateway is connected (the ceiling runs publish under `ceiling/`, not `sensors/`).
    EDGEBRIDGE_GATEWAY_ID: 'gw-bench',
    EDGEBRIDGE_MQTT_URL: mq.url,
    EDGEBRIDGE_MQTT_SUBSCRIPTIONS: `sensors/#:${qos}`,
    EDGEBRIDGE_INFLUX_URL: vm.url,
    EDGEBRIDGE_INFLUX_TOKEN: 'bench',
    EDGEBRIDGE_REDIS_URL: rd.url,
    // Streams long enough that XLEN counts every point of a phase (each phase's streams are deleted after it).
    EDGEBRIDGE_REDIS_STREAM_MAX_LEN: '1000000000',
    EDGEBRIDGE_SPOOL_ACK: ack,
    // The catch-up phase should measure draining, not the default 30 s breaker / retry back-off after the outage.
    EDGEBRIDGE_INFLUX_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS: '2000',
    EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_MAX_MS: '2000',
    // Any other EDGEBRIDGE_* variable given to the bench reaches the gateways (e.g. a batch size to compare).
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        (e): e is [string, string] => e[0].startsWith('EDGEBRIDGE_') && !e[0].startsWith('EDGEBRIDGE_BENCH_') && e[1] !== undefined,
      ),
    ),
  };
}

/** The sinks' last errors, for problem reports. */
const sinkErrors = (s: BenchStatus): string =>
  s.sinks
    .filter((x) => x.lastError !== null)
    .map((x) => `${x.name} (breaker ${x.breaker}, backlog ${x.backlog.points}): ${x.lastError?.message.slice(0, 160)}`)
    .join('; ');

function startGateway(name: string, qos: 0 | 1, ack: 'write' | 'fsync', env: Record<string, string> = {}): Promise<BenchGateway> {
  return BenchGateway.start({ name, env: { ...gatewayEnv(qos, ack), ...env, ...RUNTIME_ENV }, profile: PROFILE });
}

function fleetOptions(extra: Partial<FleetOptions> & Pick<FleetOptions, 'qos' | 'topicPrefix' | 'measurement'>): FleetOptions {
  return {
    url: mq.url,
    children: P.publishers,
    devices: P.devices,
    connectionsPerChild: P.connectionsPerPublisher,
    window: P.window,
    probeEvery: P.probeEvery,
    ...extra,
  };
}

// ------------------------------------------------------------------------------------------------
// Phases
// ------------------------------------------------------------------------------------------------

interface CeilingResult {
  qos: 0 | 1;
  messages: number;
  received: number;
  msgPerSec: number;
  cpuUsPerMsg: number;
  publishRate: number;
}

/** The bare subscriber, fed `count` messages flat out. Throughput = count / (last received − publish start). */
async function ceilingRun(qos: 0 | 1, count: number, tag: string): Promise<CeilingResult> {
  const config: SubscriberConfig = { url: mq.url, topic: 'ceiling/#', qos, expected: count, clientId: `bench-ceiling-${tag}-${process.pid}` };
  const child: ChildProcess = fork(SUBSCRIBER, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    let onDone: (m: Extract<SubscriberMessage, { type: 'done' }>, cpu: number) => void = () => undefined;
    const done = new Promise<{ m: Extract<SubscriberMessage, { type: 'done' }>; cpu: number }>((resolve) => {
      onDone = (m, cpu) => resolve({ m, cpu });
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: SubscriberMessage) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'error') reject(new Error(`subscriber: ${m.message}`));
        // Read its CPU at once, before it unsubscribes and exits.
        if (m.type === 'done') onDone(m, cpuMicros(child.pid as number));
      });
      child.once('exit', (code) => reject(new Error(`subscriber exited (${code})`)));
    });
    await ready;
    const fleet = await Fleet.launch(fleetOptions({ qos, topicPrefix: 'ceiling', measurement: 'climate', count }));
    const cpu0 = cpuMicros(child.pid as number);
    const t0 = fleet.start();
    const stall = setTimeout(() => child.connected && child.send({ type: 'finish' }), 180_000);
    const { m, cpu } = await done;
    clearTimeout(stall);
    const pub = await fleet.done();
    if (m.count < count) problems.push(`ceiling QoS ${qos} (${tag}): received ${m.count} of ${count}`);
    return {
      qos,
      messages: count,
      received: m.count,
      msgPerSec: m.count / Math.max(0.001, (m.lastAt - t0) / 1000),
      cpuUsPerMsg: (cpu - cpu0) / Math.max(1, m.count),
      publishRate: pub.rate,
    };
  } finally {
    if (child.exitCode === null) {
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

interface GatewayRunResult {
  label: string;
  qos: 0 | 1;
  ack: 'write' | 'fsync';
  measurement: string;
  published: number;
  received: number;
  msgPerSec: number;
  publishRate: number;
  landed: { influx: number; redis: number };
  lost: { influx: number; redis: number };
  cpuUsPerMsg: number;
  peakRssBytes: number;
  latencyMs: { influx: { p50: number; p99: number; n: number }; redis: { p50: number; p99: number; n: number } };
  spoolBytesPerMsg: number;
  diskWriteBytesPerMsg: number;
  writeSyscallBytesPerMsg: number;
  fsyncs: number;
  /** Seconds from publish start until both sinks had written every accepted point. */
  landedSeconds: number;
  /** Slowest /status answer during the run (event-loop responsiveness under load), ms. */
  slowestStatusMs: number;
}

const sinkOf = (s: BenchStatus, name: string) => s.sinks.find((x) => x.name === name);
const written = (s: BenchStatus): { influx: number; redis: number } => ({
  influx: sinkOf(s, 'influx')?.pointsWritten ?? 0,
  redis: sinkOf(s, 'redis')?.pointsWritten ?? 0,
});

/**
 * Runs one fleet against the running gateway: flat out (count) or at a fixed rate (rate, durationMs). Status is
 * polled every 100 ms (its own cost is part of the gateway's CPU; small). CPU, I/O and spool counters are deltas
 * from publish start to the moment both sinks have written every accepted point.
 */
async function gatewayRun(
  gw: BenchGateway,
  label: string,
  measurement: string,
  qos: 0 | 1,
  ack: 'write' | 'fsync',
  load: { count: number } | { rate: number; durationMs: number },
  shape: Partial<Pick<FleetOptions, 'devices' | 'extraFields'>> = {},
): Promise<GatewayRunResult> {
  const fleet = await Fleet.launch(
    fleetOptions({
      qos,
      topicPrefix: 'sensors',
      measurement,
      ...shape,
      ...load,
      ...('rate' in load ? { probeEvery: Math.max(10, Math.round(load.rate / P.publishers / 25)) } : {}),
    }),
  );
  const poller = new VmProbePoller(vm, measurement, P.vmPollMs);
  const s0 = await gw.status();
  const disconnects0 = s0.mqtt.disconnects;
  const w0 = written(s0);
  const cpu0 = cpuMicros(gw.pid);
  const io0 = ioCounters(gw.pid);
  const t0 = fleet.start();
  let pub: FleetResult | undefined;
  void fleet.done().then((r) => (pub = r));
  let receivedAt = 0;
  let landedAt = 0;
  let last = s0;
  let lastProgress = Date.now();
  let lastSig = '';
  while (true) {
    await sleep(100);
    const s = await gw.status();
    last = s;
    const received = s.messages.received - s0.messages.received;
    const accepted = s.messages.accepted - s0.messages.accepted;
    const w = written(s);
    const sig = `${received}/${w.influx}/${w.redis}`;
    if (sig !== lastSig) {
      lastSig = sig;
      lastProgress = Date.now();
    }
    const target = pub?.acked ?? ('count' in load ? load.count : Number.POSITIVE_INFINITY);
    if (receivedAt === 0 && received >= target) receivedAt = Date.now();
    if (pub !== undefined && received >= pub.acked && w.influx - w0.influx >= accepted && w.redis - w0.redis >= accepted) {
      landedAt = Date.now();
      break;
    }
    if (Date.now() - lastProgress > P.stallMs) {
      problems.push(
        `${label}: stalled ${P.stallMs / 1000} s (received ${received}, published ${pub?.acked ?? '?'}, written influx/redis ` +
          `${w.influx - w0.influx}/${w.redis - w0.redis}); last errors: ${sinkErrors(s) || 'none'}`,
      );
      landedAt = Date.now();
      break;
    }
  }
  const cpu1 = cpuMicros(gw.pid);
  const io1 = ioCounters(gw.pid);
  noteDisconnects(label, last.mqtt.disconnects - disconnects0);
  if (gw.statusTimeouts > 0) {
    problems.push(`${label}: /status did not answer within 5 s ${gw.statusTimeouts} time(s) (slowest answer ${round(gw.slowestStatusMs)} ms)`);
    gw.statusTimeouts = 0;
  }
  const slowestStatusMs = gw.slowestStatusMs;
  gw.slowestStatusMs = 0;
  const peak = peakRssBytes(gw.pid);
  const p = pub ?? (await fleet.done());
  const received = last.messages.received - s0.messages.received;
  if (receivedAt === 0) receivedAt = landedAt;
  const vmLat = await poller.finish(p.probes, 15_000);
  const [influxPoints, redisPts, redisLat] = await Promise.all([vmPoints(vm, measurement), redisPoints(redis, measurement), redisProbeLatencies(redis, measurement)]);
  await dropRedisStreams(redis, measurement);
  const lost = { influx: p.acked - influxPoints, redis: p.acked - redisPts };
  if (p.failed > 0) problems.push(`${label}: ${p.failed} publishes failed`);
  const spoolBytes = (last.spool.bytesWritten ?? 0) - (s0.spool.bytesWritten ?? 0);
  const n = Math.max(1, received);
  return {
    label,
    qos,
    ack,
    measurement,
    published: p.acked,
    received,
    msgPerSec: received / Math.max(0.001, (receivedAt - t0) / 1000),
    publishRate: p.rate,
    landed: { influx: influxPoints, redis: redisPts },
    lost,
    cpuUsPerMsg: (cpu1 - cpu0) / n,
    peakRssBytes: peak,
    latencyMs: {
      influx: { p50: percentile(vmLat, 50), p99: percentile(vmLat, 99), n: vmLat.length },
      redis: { p50: percentile(redisLat, 50), p99: percentile(redisLat, 99), n: redisLat.length },
    },
    spoolBytesPerMsg: spoolBytes / n,
    diskWriteBytesPerMsg: (io1.writeBytes - io0.writeBytes) / n,
    writeSyscallBytesPerMsg: (io1.wchar - io0.wchar) / n,
    fsyncs: (last.spool.fsyncs ?? 0) - (s0.spool.fsyncs ?? 0),
    landedSeconds: (landedAt - t0) / 1000,
    slowestStatusMs,
  };
}

/** A dropped MQTT connection makes the broker redeliver what was unacknowledged: duplicates, worth a line. */
function noteDisconnects(label: string, n: number): void {
  if (n > 0) problems.push(`${label}: the gateway's MQTT connection dropped ${n} time(s) (the broker then redelivers what was unacknowledged)`);
}

function checkLanded(r: GatewayRunResult): void {
  if (r.lost.influx !== 0 || r.lost.redis !== 0) {
    const dup = r.lost.influx < 0 || r.lost.redis < 0 ? ' (more than published: a batch was stored twice)' : '';
    problems.push(`${r.label}: published ${r.published}, VictoriaMetrics has ${r.landed.influx}, Redis XLEN ${r.landed.redis}${dup}`);
  }
}

type Memory = ReturnType<typeof memoryBreakdown>;

function memText(m: Memory): string {
  return `${mb(m.rss)} (${mb(m.anon)} + ${mb(m.file)})`;
}

/**
 * The floor under the gateway's idle RSS, measured beside it with the same runtime settings: a Node process that
 * only waits; one that has also loaded the built-in modules the gateway needs (http, https/tls, zlib, net,
 * crypto); and one that has loaded, besides, every library the gateway depends on (package.json "dependencies")
 * without starting anything.
 */
interface Baselines {
  readonly bare: Memory;
  readonly builtins: Memory;
  readonly libraries: Memory;
}

async function nodeBaselines(): Promise<Baselines> {
  const run = async (code: string): Promise<Memory> => {
    const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', ...RUNTIME_ENV } });
    await sleep(P.idleSettleMs);
    const m = memoryBreakdown(child.pid!);
    child.kill('SIGKILL');
    return m;
  };
  const builtins = "for (const m of ['http', 'https', 'tls', 'net', 'zlib', 'crypto']) require('node:' + m);";
  const pkg = path.join(HERE, '..', 'package.json');
  const dependencies = Object.keys((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  const libraries = `const r = require('node:module').createRequire(${JSON.stringify(pkg)}); for (const d of ${JSON.stringify(dependencies)}) r(d);`;
  return {
    bare: await run('setInterval(() => {}, 1000)'),
    builtins: await run(`${builtins} setInterval(() => {}, 1000)`),
    libraries: await run(`${builtins} ${libraries} setInterval(() => {}, 1000)`),
  };
}

async function atRest(): Promise<{ readyMs: number; idleRssBytes: number; idle: Memory; baseline: Baselines; idleCpuMs: number; idleCpuPct: number; idleSeconds: number }> {
  const baseline = await nodeBaselines();
  const gw = await startGateway('at-rest', 1, 'write');
  try {
    await sleep(P.idleSettleMs);
    const idle = memoryBreakdown(gw.pid);
    const c0 = cpuMicros(gw.pid);
    await sleep(P.idleMs);
    const c1 = cpuMicros(gw.pid);
    const idleCpuMs = (c1 - c0) / 1000;
    return { readyMs: gw.readyMs, idleRssBytes: idle.rss, idle, baseline, idleCpuMs, idleCpuPct: (100 * idleCpuMs) / P.idleMs, idleSeconds: P.idleMs / 1000 };
  } finally {
    await gw.stop();
  }
}

interface SweepStep {
  rate: number;
  achievedRate: number;
  published: number;
  lost: { influx: number; redis: number };
  p99Ms: { influx: number; redis: number };
  p50Ms: { influx: number; redis: number };
  cpuUsPerMsg: number;
  pass: boolean;
  why: string;
}

async function sweep(gw: BenchGateway): Promise<{ steps: SweepStep[]; maxSteadyRate: number }> {
  const steps: SweepStep[] = [];
  let maxSteadyRate = 0;
  for (const rate of P.sweepRates) {
    log(`sweep: ${rate} msg/s for ${P.sweepMs / 1000} s`);
    const r = await gatewayRun(gw, `sweep ${rate}`, `s${rate}`, 1, 'write', { rate, durationMs: P.sweepMs });
    const why: string[] = [];
    if (r.lost.influx !== 0 || r.lost.redis !== 0) why.push(`lost ${r.lost.influx}/${r.lost.redis}`);
    if (!QUICK) {
      if (!(r.latencyMs.influx.p99 < P.latencyLimitMs)) why.push(`influx p99 ${round(r.latencyMs.influx.p99)} ms`);
      if (!(r.latencyMs.redis.p99 < P.latencyLimitMs)) why.push(`redis p99 ${round(r.latencyMs.redis.p99)} ms`);
      if (r.publishRate < 0.95 * rate) why.push(`publishers reached only ${round(r.publishRate)} msg/s`);
    }
    const step: SweepStep = {
      rate,
      achievedRate: round(r.publishRate),
      published: r.published,
      lost: r.lost,
      p50Ms: { influx: round(r.latencyMs.influx.p50), redis: round(r.latencyMs.redis.p50) },
      p99Ms: { influx: round(r.latencyMs.influx.p99), redis: round(r.latencyMs.redis.p99) },
      cpuUsPerMsg: round(r.cpuUsPerMsg, 1),
      pass: why.length === 0,
      why: why.join(', '),
    };
    steps.push(step);
    if (QUICK) checkLanded(r);
    if (!step.pass) break;
    maxSteadyRate = rate;
  }
  return { steps, maxSteadyRate };
}

interface CatchUpResult {
  backlogPoints: number;
  liveRate: number;
  breakerWaitSeconds: number;
  drainSeconds: number;
  netDrainRate: number;
  sinkWriteRate: number;
  ratio: number;
  lost: { influx: number; redis: number };
  peakRssBytes: number;
  spoolBacklogBytes: number;
}

async function catchUp(gw: BenchGateway, liveRate: number): Promise<CatchUpResult> {
  log(`catch-up: stopping VictoriaMetrics, building a backlog of ${P.backlogPoints} points`);
  await vm.stop();
  const disconnects0 = (await gw.status()).mqtt.disconnects;
  const fill = await Fleet.launch(fleetOptions({ qos: 1, topicPrefix: 'sensors', measurement: 'cu', count: P.backlogPoints, probeEvery: 0 }));
  fill.start();
  const filled = await fill.done();
  let st = await gw.status();
  const deadline = Date.now() + 120_000;
  while ((sinkOf(st, 'influx')?.backlog.points ?? 0) < filled.acked && Date.now() < deadline) {
    await sleep(200);
    st = await gw.status();
  }
  const backlog = sinkOf(st, 'influx')?.backlog ?? { points: 0, bytes: 0, ageSeconds: 0 };
  log(`catch-up: backlog ${backlog.points} points (${round(backlog.bytes / 1e6, 1)} MB); live traffic at ${liveRate} msg/s, restarting VictoriaMetrics`);
  const live = await Fleet.launch(fleetOptions({ qos: 1, topicPrefix: 'sensors', measurement: 'cul', rate: liveRate, probeEvery: 0 }));
  live.start();
  await sleep(1000);
  const restartAt = Date.now();
  await vm.restart();
  const samples: { t: number; backlog: number; written: number }[] = [];
  const threshold = liveRate * 1.5 + 5000; // "drained": back to what live traffic alone keeps in flight
  const drainDeadline = Date.now() + 900_000;
  while (Date.now() < drainDeadline) {
    const s = await gw.status();
    const sink = sinkOf(s, 'influx');
    samples.push({ t: Date.now(), backlog: sink?.backlog.points ?? 0, written: sink?.pointsWritten ?? 0 });
    if (samples.length > 1 && (sink?.backlog.points ?? 0) <= threshold) break;
    const before = samples.find((x) => x.t >= Date.now() - 30_000);
    if (Date.now() - restartAt > 60_000 && before !== undefined && before.written === (sink?.pointsWritten ?? 0)) {
      problems.push(`catch-up: influx stopped draining (backlog ${sink?.backlog.points}); last errors: ${sinkErrors(s) || 'none'}`);
      break;
    }
    await sleep(250);
  }
  live.stop();
  const liveResult = await live.done();
  const w0 = samples[0]!.written;
  const firstIdx = Math.max(0, samples.findIndex((x) => x.written > w0) - 1);
  const first = samples[firstIdx]!;
  const end = samples[samples.length - 1]!;
  const secs = Math.max(0.001, (end.t - first.t) / 1000);
  // Wait until everything landed, then count what the servers hold.
  let lastSig = '';
  let lastProgress = Date.now();
  while (true) {
    const s = await gw.status();
    const bi = sinkOf(s, 'influx')?.backlog.points ?? 1;
    const br = sinkOf(s, 'redis')?.backlog.points ?? 1;
    if (bi === 0 && br === 0) break;
    const sig = `${bi}/${br}`;
    if (sig !== lastSig) {
      lastSig = sig;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > P.stallMs) {
      problems.push(`catch-up: sinks stalled ${P.stallMs / 1000} s with backlog influx/redis ${bi}/${br}; last errors: ${sinkErrors(s) || 'none'}`);
      break;
    }
    await sleep(250);
  }
  let [vmCu, vmCul, rdCu, rdCul] = await Promise.all([vmPoints(vm, 'cu'), vmPoints(vm, 'cul'), redisPoints(redis, 'cu'), redisPoints(redis, 'cul')]);
  // A shortfall in VictoriaMetrics is counted again before it is called a loss, and VictoriaMetrics's own
  // counters of rows it ignored or could not parse are reported beside it (one unexplained shortfall was seen).
  for (let i = 0; i < 3 && vmCu + vmCul < filled.acked + liveResult.acked; i++) {
    await sleep(5000);
    [vmCu, vmCul] = await Promise.all([vmPoints(vm, 'cu'), vmPoints(vm, 'cul')]);
  }
  if (vmCu + vmCul < filled.acked + liveResult.acked) {
    const m = await (await fetch(`${vm.url}/metrics`)).text();
    const counters = m.split('\n').filter((l) => /^vm_rows_(ignored|invalid|inserted)_total/.test(l));
    problems.push(`catch-up: VictoriaMetrics counters: ${counters.join('; ')}; gateway influx: ${JSON.stringify(sinkOf(await gw.status(), 'influx'))}`);
  }
  noteDisconnects('catch-up', (await gw.status()).mqtt.disconnects - disconnects0);
  await dropRedisStreams(redis, 'cu');
  await dropRedisStreams(redis, 'cul');
  const total = filled.acked + liveResult.acked;
  const lost = { influx: total - vmCu - vmCul, redis: total - rdCu - rdCul };
  if (lost.influx !== 0 || lost.redis !== 0) problems.push(`catch-up: published ${total}, VictoriaMetrics has ${vmCu + vmCul}, Redis XLEN ${rdCu + rdCul}`);
  const netDrainRate = (first.backlog - end.backlog) / secs;
  return {
    backlogPoints: backlog.points,
    liveRate,
    breakerWaitSeconds: (first.t - restartAt) / 1000,
    drainSeconds: secs,
    netDrainRate,
    sinkWriteRate: (end.written - first.written) / secs,
    ratio: netDrainRate / liveRate,
    lost,
    peakRssBytes: peakRssBytes(gw.pid),
    spoolBacklogBytes: backlog.bytes,
  };
}

interface ScalingCell {
  dimension: 'batch maxPoints' | 'devices' | 'fields per message';
  value: number;
  env: Record<string, string>;
  shape: Partial<Pick<FleetOptions, 'devices' | 'extraFields'>>;
}

/**
 * One dimension at a time around the default (batch 5000 points, 100 devices, 3 fields + ts): QoS 1, ack=write,
 * flat out, a fresh gateway per cell. Prints msg/s, fields/s, CPU µs per message, and what landed.
 */
async function scaling(): Promise<void> {
  const count = QUICK ? 3_000 : 100_000;
  const cells: ScalingCell[] = [
    ...[500, 1000, 5000, 20_000].map((b): ScalingCell => ({
      dimension: 'batch maxPoints',
      value: b,
      env: { EDGEBRIDGE_INFLUX_BATCH_MAX_POINTS: String(b), EDGEBRIDGE_REDIS_BATCH_MAX_POINTS: String(b) },
      shape: {},
    })),
    ...[10, 100, 1000, 10_000].map((d): ScalingCell => ({ dimension: 'devices', value: d, env: {}, shape: { devices: d } })),
    ...[3, 11, 35].map((f): ScalingCell => ({ dimension: 'fields per message', value: f, env: {}, shape: { extraFields: f - 3 } })),
  ];
  const rows: { cell: ScalingCell; r: GatewayRunResult }[] = [];
  for (const [i, cell] of cells.entries()) {
    log(`scaling: ${cell.dimension} = ${cell.value} (${count} msgs, QoS 1)`);
    const gw = await startGateway(`scale-${i}`, 1, 'write', cell.env);
    try {
      const r = await gatewayRun(gw, `scaling ${cell.dimension} ${cell.value}`, `sc${i}`, 1, 'write', { count }, cell.shape);
      checkLanded(r);
      rows.push({ cell, r });
      log(`  ${fmt(r.msgPerSec)} msg/s, ${fmt(r.cpuUsPerMsg, 1)} µs/msg, lost ${r.lost.influx}/${r.lost.redis}`);
    } finally {
      await gw.stop();
    }
  }
  const W = [20, 10, 12, 14, 12, 14];
  const lines = [
    `edgebridge scaling (${QUICK ? 'quick' : 'full'}) ${new Date().toISOString()}  ${os.cpus().length} cores, Node ${process.version}, gateway ${RUNTIME_TEXT}`,
    `QoS 1, ack=write, ${count} messages per cell, flat out; defaults: batch 5000 points, 100 devices, 3 fields + ts`,
    row(['dimension', 'value', 'msg/s', 'fields/s', 'CPU µs/msg', 'lost i/r'], W),
    ...rows.map(({ cell, r }) =>
      row([cell.dimension, fmt(cell.value), fmt(r.msgPerSec), fmt(r.msgPerSec * (cell.dimension === 'fields per message' ? cell.value : 3)), fmt(r.cpuUsPerMsg, 1), `${r.lost.influx}/${r.lost.redis}`], W),
    ),
    problems.length === 0 ? 'correctness: everything published landed in both sinks' : `PROBLEMS:\n  ${problems.join('\n  ')}`,
  ];
  const json = {
    bench: 'edgebridge-scaling',
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, node: process.version },
    gatewayEnv: RUNTIME_ENV,
    messagesPerCell: count,
    cells: rows.map(({ cell, r }) => ({ dimension: cell.dimension, value: cell.value, msgPerSec: round(r.msgPerSec), cpuUsPerMsg: round(r.cpuUsPerMsg, 2), lost: r.lost, peakRssBytes: r.peakRssBytes })),
    correct: problems.length === 0,
    problems,
  };
  const text = `${lines.join('\n')}\n${JSON.stringify(json)}\n`;
  process.stdout.write(text);
  if (!QUICK) {
    fs.writeFileSync(path.join(RESULTS, 'scaling.txt'), text);
    fs.writeFileSync(path.join(RESULTS, 'scaling.json'), `${JSON.stringify(json, null, 2)}\n`);
  }
  if (problems.length > 0) process.exitCode = 1;
}

// ------------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------------

const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? round(v, digits).toLocaleString('en-US') : 'n/a');
const mb = (bytes: number): string => `${fmt(bytes / 1048576, 1)} MB`;
const row = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

async function main(): Promise<void> {
  const started = performance.now();
  fs.mkdirSync(RESULTS, { recursive: true });
  if (PROFILE) fs.rmSync(PROFILE_DIR, { recursive: true, force: true });
  log(`starting servers (${QUICK ? 'quick' : 'full'} mode, ${os.cpus().length} cores)`);
  [mq, rd, vm] = await Promise.all([startMosquitto(), startRedis(), startVictoriaMetrics({ extraArgs: ['-loggerLevel=ERROR'] })]);
  redis = new Redis(rd.url, { lazyConnect: false, maxRetriesPerRequest: 3 });

  if (argv['catch-up-only'] !== undefined) {
    const gw = await startGateway('catch-up-only', 1, 'write');
    try {
      const cu = await catchUp(gw, Number(argv['catch-up-only']));
      process.stdout.write(`catch-up-only: ${JSON.stringify(cu)}\nproblems: ${JSON.stringify(problems)}\nstatus: ${JSON.stringify((await gw.status()).mqtt)}\n`);
    } finally {
      await gw.stop();
    }
    await redis.quit().catch(() => undefined);
    await Promise.all([mq.destroy(), rd.destroy(), vm.destroy()]);
    return;
  }

  if (argv.scaling === true) {
    await scaling();
    await redis.quit().catch(() => undefined);
    await Promise.all([mq.destroy(), rd.destroy(), vm.destroy()]);
    return;
  }

  const rest = await timed('at rest', atRest);
  log(`at rest: ready in ${round(rest.readyMs)} ms, RSS ${mb(rest.idleRssBytes)}, idle CPU ${round(rest.idleCpuMs)} ms / ${rest.idleSeconds} s`);

  const ceil0: CeilingResult[] = [];
  const ceil1: CeilingResult[] = [];
  const gw0: GatewayRunResult[] = [];
  const gw1: GatewayRunResult[] = [];
  for (let rep = 1; rep <= P.reps; rep++) {
    log(`rep ${rep}/${P.reps}: ceiling QoS 0 (${P.maxRateCount} msgs)`);
    ceil0.push(await timed('ceiling', () => ceilingRun(0, P.maxRateCount, `q0r${rep}`)));
    log(`  ${fmt(ceil0.at(-1)!.msgPerSec)} msg/s, ${fmt(ceil0.at(-1)!.cpuUsPerMsg, 1)} µs/msg; gateway QoS 0`);
    await timed('gateway max rate', async () => {
      const gw = await startGateway(`q0-rep${rep}`, 0, 'write');
      try {
        gw0.push(await gatewayRun(gw, `gateway QoS 0 rep ${rep}`, `q0r${rep}`, 0, 'write', { count: P.maxRateCount }));
      } finally {
        await gw.stop();
      }
    });
    checkLanded(gw0.at(-1)!);
    log(`  ${fmt(gw0.at(-1)!.msgPerSec)} msg/s, ${fmt(gw0.at(-1)!.cpuUsPerMsg, 1)} µs/msg; ceiling QoS 1`);
    ceil1.push(await timed('ceiling', () => ceilingRun(1, P.maxRateCount, `q1r${rep}`)));
    log(`  ${fmt(ceil1.at(-1)!.msgPerSec)} msg/s, ${fmt(ceil1.at(-1)!.cpuUsPerMsg, 1)} µs/msg; gateway QoS 1 ack=write`);
    await timed('gateway max rate', async () => {
      const gw = await startGateway(`q1w-rep${rep}`, 1, 'write');
      try {
        gw1.push(await gatewayRun(gw, `gateway QoS 1 write rep ${rep}`, `q1wr${rep}`, 1, 'write', { count: P.maxRateCount }));
      } finally {
        await gw.stop();
      }
    });
    checkLanded(gw1.at(-1)!);
    log(`  ${fmt(gw1.at(-1)!.msgPerSec)} msg/s, ${fmt(gw1.at(-1)!.cpuUsPerMsg, 1)} µs/msg`);
  }

  if (argv['max-rate-only'] === true) {
    await redis.quit().catch(() => undefined);
    await Promise.all([mq.destroy(), rd.destroy(), vm.destroy()]);
    const ratio = (g: GatewayRunResult[], c: CeilingResult[]): string =>
      `cpu ${fmt(median(g.map((x, i) => x.cpuUsPerMsg / c[i]!.cpuUsPerMsg)), 2)}× thr ${fmt(median(g.map((x, i) => x.msgPerSec / c[i]!.msgPerSec)) * 100, 1)} %`;
    process.stdout.write(`max-rate-only: QoS 0 ${ratio(gw0, ceil0)}; QoS 1 ${ratio(gw1, ceil1)}; peak RSS ${mb(Math.max(...gw0.map((g) => g.peakRssBytes), ...gw1.map((g) => g.peakRssBytes)))}\n`);
    for (const name of PROFILE ? ['q0-rep1', 'q1w-rep1'] : []) {
      const file = path.join(PROFILE_DIR, `${name}.cpuprofile`);
      if (!fs.existsSync(file)) continue;
      const { totalMs, top } = topSelfTime(file, 25);
      process.stdout.write(`profile ${name}: ${totalMs} ms non-idle\n`);
      for (const t of top) process.stdout.write(`  ${String(t.pct).padStart(5)} %  ${t.fn}\n`);
    }
    return;
  }

  log(`gateway QoS 1 ack=fsync (${P.fsyncCount} msgs)`);
  const fsyncRun = await timed('gateway fsync', async () => {
    const gw = await startGateway('q1f', 1, 'fsync');
    try {
      return await gatewayRun(gw, 'gateway QoS 1 fsync', 'q1f', 1, 'fsync', { count: P.fsyncCount });
    } finally {
      await gw.stop();
    }
  });
  checkLanded(fsyncRun);
  log(`  ${fmt(fsyncRun.msgPerSec)} msg/s`);

  const sweepGw = await startGateway('sweep-catchup', 1, 'write');
  let sw: Awaited<ReturnType<typeof sweep>>;
  let cu: CatchUpResult;
  try {
    sw = await timed('sweep', () => sweep(sweepGw));
    // Live traffic during the catch-up: a quarter of the highest steady rate, i.e. a gateway sized with the
    // headroom the README's sizing guide asks for. At the highest steady rate itself there is, by definition, no
    // capacity left to drain a backlog faster than it grows.
    const liveRate = Math.max(P.sweepRates[0]!, Math.round((sw.maxSteadyRate > 0 ? sw.maxSteadyRate : P.sweepRates[0]!) / 4 / 1000) * 1000);
    cu = await timed('catch-up', () => catchUp(sweepGw, liveRate));
  } finally {
    await sweepGw.stop();
  }
  log(`catch-up: ${fmt(cu.netDrainRate)} points/s net drain at ${cu.liveRate} msg/s live (${fmt(cu.ratio, 1)}×)`);

  await redis.quit().catch(() => undefined);
  await Promise.all([mq.destroy(), rd.destroy(), vm.destroy()]);

  // Profiles are written when each gateway exits.
  let profiles: Record<string, { totalMs: number; top: SelfTime[] }> | undefined;
  if (PROFILE) {
    profiles = {};
    for (const name of ['q0-rep1', 'q1w-rep1']) {
      const file = path.join(PROFILE_DIR, `${name}.cpuprofile`);
      if (fs.existsSync(file)) profiles[name] = topSelfTime(file, 12);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Report
  // ---------------------------------------------------------------------------------------------
  const med = (xs: readonly number[]): number => median(xs);
  const ratioCpu0 = gw0.map((g, i) => g.cpuUsPerMsg / ceil0[i]!.cpuUsPerMsg);
  const ratioCpu1 = gw1.map((g, i) => g.cpuUsPerMsg / ceil1[i]!.cpuUsPerMsg);
  const ratioThr0 = gw0.map((g, i) => g.msgPerSec / ceil0[i]!.msgPerSec);
  const ratioThr1 = gw1.map((g, i) => g.msgPerSec / ceil1[i]!.msgPerSec);
  const cpuRatio = med(ratioCpu0);
  const thrRatio = med(ratioThr1);
  const totalSeconds = (performance.now() - started) / 1000;

  const summarize = (runs: GatewayRunResult[]) => ({
    messages: runs[0]!.published,
    msgPerSec: round(med(runs.map((r) => r.msgPerSec))),
    cpuUsPerMsg: round(med(runs.map((r) => r.cpuUsPerMsg)), 2),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    latencyMs: {
      influx: { p50: round(med(runs.map((r) => r.latencyMs.influx.p50))), p99: round(med(runs.map((r) => r.latencyMs.influx.p99))) },
      redis: { p50: round(med(runs.map((r) => r.latencyMs.redis.p50))), p99: round(med(runs.map((r) => r.latencyMs.redis.p99))) },
    },
    landed: runs.map((r) => r.landed),
    lost: runs.map((r) => r.lost),
    spoolBytesPerMsg: round(med(runs.map((r) => r.spoolBytesPerMsg)), 1),
    diskWriteBytesPerMsg: round(med(runs.map((r) => r.diskWriteBytesPerMsg)), 1),
    writeSyscallBytesPerMsg: round(med(runs.map((r) => r.writeSyscallBytesPerMsg)), 1),
    fsyncs: runs.map((r) => r.fsyncs),
    runs: runs.map((r) => ({
      msgPerSec: round(r.msgPerSec),
      cpuUsPerMsg: round(r.cpuUsPerMsg, 2),
      landedSeconds: round(r.landedSeconds, 1),
      slowestStatusMs: round(r.slowestStatusMs),
    })),
  });
  const summarizeCeil = (runs: CeilingResult[]) => ({
    messages: runs[0]!.messages,
    msgPerSec: round(med(runs.map((r) => r.msgPerSec))),
    cpuUsPerMsg: round(med(runs.map((r) => r.cpuUsPerMsg)), 2),
    runs: runs.map((r) => ({ msgPerSec: round(r.msgPerSec), cpuUsPerMsg: round(r.cpuUsPerMsg, 2), publishRate: round(r.publishRate) })),
  });

  const json = {
    bench: 'edgebridge',
    version: 1,
    mode: QUICK ? 'quick' : 'full',
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, node: process.version },
    setup: {
      gatewayEnv: RUNTIME_ENV,
      reps: P.reps,
      publishers: P.publishers,
      connectionsPerPublisher: P.connectionsPerPublisher,
      devices: P.devices,
      probeEvery: P.probeEvery,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      vmPollMs: P.vmPollMs,
    },
    ceiling: { qos0: summarizeCeil(ceil0), qos1: summarizeCeil(ceil1) },
    gateway: { qos0: summarize(gw0), qos1Write: summarize(gw1), qos1Fsync: summarize([fsyncRun]) },
    ratios: {
      cpuPerMsgQos0: { value: round(cpuRatio, 2), target: '<= 2.5', pass: cpuRatio <= 2.5, perRep: ratioCpu0.map((r) => round(r, 2)) },
      cpuPerMsgQos1: { value: round(med(ratioCpu1), 2), perRep: ratioCpu1.map((r) => round(r, 2)) },
      throughputQos0: { value: round(med(ratioThr0), 3), perRep: ratioThr0.map((r) => round(r, 3)) },
      throughputQos1Write: { value: round(thrRatio, 3), target: '>= 0.90', pass: thrRatio >= 0.9, perRep: ratioThr1.map((r) => round(r, 3)) },
    },
    memory: {
      peakRssBytes: Math.max(...gw0.map((g) => g.peakRssBytes), ...gw1.map((g) => g.peakRssBytes)),
      idleRssBytes: rest.idleRssBytes,
      target: 'peak <= 80 MB, idle <= 50 MB',
      pass: Math.max(...gw0.map((g) => g.peakRssBytes), ...gw1.map((g) => g.peakRssBytes)) <= 80 * 1048576 && rest.idleRssBytes <= 50 * 1048576,
      floorWithLibrariesBytes: rest.baseline.libraries.rss,
    },
    sweep: { latencyLimitMs: P.latencyLimitMs, stepSeconds: P.sweepMs / 1000, maxSteadyRate: sw.maxSteadyRate, steps: sw.steps },
    catchUp: {
      backlogPoints: cu.backlogPoints,
      backlogBytes: cu.spoolBacklogBytes,
      liveRate: cu.liveRate,
      breakerWaitSeconds: round(cu.breakerWaitSeconds, 1),
      drainSeconds: round(cu.drainSeconds, 1),
      netDrainRate: round(cu.netDrainRate),
      sinkWriteRate: round(cu.sinkWriteRate),
      ratio: round(cu.ratio, 2),
      target: '>= 5',
      pass: cu.ratio >= 5,
      lost: cu.lost,
      peakRssBytes: cu.peakRssBytes,
    },
    atRest: {
      readyMs: round(rest.readyMs),
      idleRssBytes: rest.idleRssBytes,
      idleAnonBytes: rest.idle.anon,
      idleFileBytes: rest.idle.file,
      nodeBaseline: rest.baseline,
      idleCpuMs: round(rest.idleCpuMs),
      idleCpuPct: round(rest.idleCpuPct, 2),
      idleSeconds: rest.idleSeconds,
    },
    ...(profiles ? { profile: profiles } : {}),
    durations: { ...phaseSeconds, total: round(totalSeconds, 1) },
    correct: problems.length === 0,
    problems,
  };

  const g0 = json.gateway.qos0;
  const g1 = json.gateway.qos1Write;
  const gf = json.gateway.qos1Fsync;
  const c0 = json.ceiling.qos0;
  const c1 = json.ceiling.qos1;
  // Per run "influx/redis"; a negative figure is points stored more than once (a batch written twice), not a loss.
  const lostText = (l: { influx: number; redis: number }[]): string =>
    l.every((x) => x.influx === 0 && x.redis === 0) ? '0' : l.map((x) => `${x.influx}/${x.redis}`).join(' ');
  const lines: string[] = [];
  const W = [34, 14, 14, 16, 16];
  lines.push(`edgebridge bench (${json.mode}) ${json.at}  ${json.machine.cores} cores, Node ${json.machine.node}, gateway ${RUNTIME_TEXT}`);
  lines.push(
    `publishers: ${P.publishers} child processes × ${P.connectionsPerPublisher} connections, ${P.devices} devices, payload {"t","h","p","ts"};` +
      ` max-rate runs: ${P.maxRateCount.toLocaleString('en-US')} msgs (fsync: ${P.fsyncCount.toLocaleString('en-US')}), medians of ${P.reps} rep(s), ceiling and gateway side by side per rep`,
  );
  lines.push('');
  lines.push(row(['max rate', 'ceiling QoS0', 'gateway QoS0', 'ceiling QoS1', 'gateway QoS1'], W));
  lines.push(row(['', 'bare sub', 'ack=write', 'bare sub', 'ack=write'], W));
  lines.push(row(['msg/s received', fmt(c0.msgPerSec), fmt(g0.msgPerSec), fmt(c1.msgPerSec), fmt(g1.msgPerSec)], W));
  lines.push(row(['CPU µs/msg', fmt(c0.cpuUsPerMsg, 2), fmt(g0.cpuUsPerMsg, 2), fmt(c1.cpuUsPerMsg, 2), fmt(g1.cpuUsPerMsg, 2)], W));
  lines.push(row(['lost influx/redis per rep (<0: dup)', '', lostText(g0.lost), '', lostText(g1.lost)], W));
  const medRuns = (g: typeof g0, k: 'landedSeconds' | 'slowestStatusMs', d: number): string => fmt(median(g.runs.map((r) => r[k])), d);
  lines.push(row(['all points in both sinks after, s', '', medRuns(g0, 'landedSeconds', 1), '', medRuns(g1, 'landedSeconds', 1)], W));
  lines.push(row(['slowest /status answer, ms', '', medRuns(g0, 'slowestStatusMs', 0), '', medRuns(g1, 'slowestStatusMs', 0)], W));
  lines.push(row(['peak RSS (VmHWM)', '', mb(g0.peakRssBytes), '', mb(g1.peakRssBytes)], W));
  lines.push(row(['latency p50/p99 influx, ms', '', `${fmt(g0.latencyMs.influx.p50)}/${fmt(g0.latencyMs.influx.p99)}`, '', `${fmt(g1.latencyMs.influx.p50)}/${fmt(g1.latencyMs.influx.p99)}`], W));
  lines.push(row(['latency p50/p99 redis, ms', '', `${fmt(g0.latencyMs.redis.p50)}/${fmt(g0.latencyMs.redis.p99)}`, '', `${fmt(g1.latencyMs.redis.p50)}/${fmt(g1.latencyMs.redis.p99)}`], W));
  lines.push(row(['spool bytes/msg (status)', '', fmt(g0.spoolBytesPerMsg, 1), '', fmt(g1.spoolBytesPerMsg, 1)], W));
  lines.push(row(['disk write_bytes/msg (/proc io)', '', fmt(g0.diskWriteBytesPerMsg, 1), '', fmt(g1.diskWriteBytesPerMsg, 1)], W));
  lines.push(row(['write() bytes/msg (wchar, all fds)', '', fmt(g0.writeSyscallBytesPerMsg, 1), '', fmt(g1.writeSyscallBytesPerMsg, 1)], W));
  lines.push('');
  lines.push(
    `QoS 1 ack=fsync (${gf.messages.toLocaleString('en-US')} msgs): ${fmt(gf.msgPerSec)} msg/s (${fmt((100 * gf.msgPerSec) / g1.msgPerSec, 1)} % of ack=write), ` +
      `${fmt(gf.cpuUsPerMsg, 2)} µs/msg, lost ${lostText(gf.lost)}, fsyncs ${gf.fsyncs[0]}, latency p50/p99 influx ${fmt(gf.latencyMs.influx.p50)}/${fmt(gf.latencyMs.influx.p99)} ms, ` +
      `redis ${fmt(gf.latencyMs.redis.p50)}/${fmt(gf.latencyMs.redis.p99)} ms, spool ${fmt(gf.spoolBytesPerMsg, 1)} B/msg, disk ${fmt(gf.diskWriteBytesPerMsg, 1)} B/msg`,
  );
  lines.push('');
  const pf = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
  lines.push(`ratio CPU µs/msg gateway/ceiling QoS 0:       ${fmt(cpuRatio, 2)}×  (target ≤ 2.5×)  ${pf(json.ratios.cpuPerMsgQos0.pass)}   per rep: ${json.ratios.cpuPerMsgQos0.perRep.join(', ')}`);
  lines.push(`ratio throughput gateway/ceiling QoS 1 write: ${fmt(100 * thrRatio, 1)} %  (target ≥ 90 %)  ${pf(json.ratios.throughputQos1Write.pass)}   per rep: ${json.ratios.throughputQos1Write.perRep.join(', ')}`);
  lines.push(`(also: CPU ratio QoS 1 ${fmt(json.ratios.cpuPerMsgQos1.value, 2)}×, throughput ratio QoS 0 ${fmt(100 * json.ratios.throughputQos0.value, 1)} %)`);
  const m = json.memory;
  lines.push(
    `memory: peak RSS ${mb(m.peakRssBytes)} at full rate, idle ${mb(m.idleRssBytes)}  (target ≤ 80 MB, ≤ 50 MB)  ${pf(m.pass)}` +
      (m.pass ? '' : `   floor: Node with the gateway's libraries loaded and nothing started, ${mb(m.floorWithLibrariesBytes)} (see "at rest")`),
  );
  lines.push('');
  lines.push(`rate sweep (QoS 1, ack=write, ${P.sweepMs / 1000} s per step; pass = zero loss in both sinks and p99 < ${P.latencyLimitMs} ms in both):`);
  const SW = [10, 10, 12, 18, 18, 10, 6];
  lines.push(row(['rate', 'achieved', 'lost i/r', 'influx p50/p99', 'redis p50/p99', 'µs/msg', ''], SW));
  for (const s of sw.steps) {
    lines.push(
      row(
        [
          fmt(s.rate),
          fmt(s.achievedRate),
          `${s.lost.influx}/${s.lost.redis}`,
          `${fmt(s.p50Ms.influx)}/${fmt(s.p99Ms.influx)}`,
          `${fmt(s.p50Ms.redis)}/${fmt(s.p99Ms.redis)}`,
          fmt(s.cpuUsPerMsg, 1),
          s.pass ? 'ok' : 'FAIL',
        ],
        SW,
      ) + (s.why ? `  ${s.why}` : ''),
    );
  }
  lines.push(`highest steady rate: ${fmt(sw.maxSteadyRate)} msg/s`);
  lines.push('');
  lines.push(
    `catch-up: VictoriaMetrics stopped, backlog ${fmt(cu.backlogPoints)} points (${mb(cu.spoolBacklogBytes)} in the spool), restarted with live traffic at ${fmt(cu.liveRate)} msg/s:`,
  );
  lines.push(
    `  first write ${fmt(cu.breakerWaitSeconds, 1)} s after restart (breaker half-open 2 s); drained in ${fmt(cu.drainSeconds, 1)} s; ` +
      `backlog shrank ${fmt(cu.netDrainRate)} points/s (sink wrote ${fmt(cu.sinkWriteRate)} points/s incl. live);`,
  );
  lines.push(
    `  drain/live = ${fmt(cu.ratio, 1)}×  (target ≥ 5×)  ${pf(cu.ratio >= 5)}; lost influx/redis ${cu.lost.influx}/${cu.lost.redis}; peak RSS ${mb(cu.peakRssBytes)}`,
  );
  lines.push('');
  lines.push(
    `at rest: spawn → /readyz 200 in ${fmt(rest.readyMs)} ms; idle RSS ${mb(rest.idleRssBytes)} (anon ${mb(rest.idle.anon)}, file-backed ${mb(rest.idle.file)}); idle CPU ${fmt(rest.idleCpuMs)} ms over ${rest.idleSeconds} s (${fmt(rest.idleCpuPct, 2)} % of a core)`,
    '  the floor beside it, same runtime settings (RSS = anon + file-backed):',
    `    a Node process that only waits                         ${memText(rest.baseline.bare)}`,
    `    + http, https, tls, net, zlib, crypto loaded           ${memText(rest.baseline.builtins)}`,
    `    + the gateway's libraries loaded, nothing started      ${memText(rest.baseline.libraries)}`,
  );
  lines.push('');
  lines.push('method:');
  lines.push('  msg/s = messages / (last one received − publish start); gateway "received" from /status polled every 100 ms.');
  lines.push('  CPU = utime+stime from /proc/<pid>/stat (100 Hz ticks) of the subscriber / gateway process, publish start → all');
  lines.push('  points written to both sinks (includes sink work and the /status polling). Publishers are separate processes.');
  lines.push(`  landed = VictoriaMetrics samples (force_flush + /api/v1/export) and Redis XLEN, compared with messages published.`);
  lines.push(`  latency: every ${P.probeEvery}th message (sweep: ~25/s per publisher) is a probe whose ts is its send time. Redis: stream`);
  lines.push(`  entry ID (Redis clock at XADD) − ts, exact. VictoriaMetrics: polled every ${P.vmPollMs} ms (force_flush + export); first poll`);
  lines.push(`  that shows the probe − ts, an upper bound (≤ ${P.vmPollMs} ms late).`);
  lines.push('  spool bytes/msg = Δspool.bytesWritten / received; disk = Δwrite_bytes of /proc/<pid>/io (block layer).');
  if (profiles) {
    for (const [name, prof] of Object.entries(profiles)) {
      lines.push('');
      lines.push(`profile ${name} (node --cpu-prof, ${fmt(prof.totalMs)} ms non-idle), top self time:`);
      for (const t of prof.top) lines.push(`  ${fmt(t.pct, 1).padStart(5)} %  ${fmt(t.ms).padStart(6)} ms  ${t.fn}`);
    }
  }
  lines.push('');
  lines.push(`durations (s): ${Object.entries(json.durations).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(problems.length === 0 ? 'correctness: everything published landed in both sinks' : `PROBLEMS:\n  ${problems.join('\n  ')}`);

  const text = lines.join('\n') + '\n';
  const jsonLine = JSON.stringify(json);
  process.stdout.write(text);
  process.stdout.write(jsonLine + '\n');
  // A --quick run (the test) or a profiled run (slower gateway) never overwrites the full run's figures.
  const base = QUICK ? 'quick' : PROFILE ? 'profiled' : argv.tuned ? 'tuned' : 'latest';
  fs.writeFileSync(path.join(RESULTS, `${base}.txt`), text);
  fs.writeFileSync(path.join(RESULTS, `${base}.json`), jsonLine + '\n');
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
