/**
 * What every bench phase shares: the command line, the sizes of each phase, the servers, and how a gateway and a
 * publisher fleet are made for them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import type { AckMode, FleetOptions, GatewayStatus, Scenario, Servers } from '../test/harness/index.ts';
import { CLIMATE_MESSAGES, type ClimateOptions } from './climateMessages.ts';
import { BenchGateway } from './gateway.ts';
import { unitEnvironment, unitExecStart } from '../test/harness/index.ts';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS = path.join(HERE, 'results');

export function benchArgs(args: string[] = process.argv.slice(2)) {
  return parseArgs({
    args,
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
      // Only memory: the at-rest phase (with the floor) and one fixed-rate QoS 0 run (`--rate`, msg/s, for
      // `--seconds`), printed as idle and peak RSS with the anonymous/file split, CPU per message and what was lost.
      'memory-only': { type: 'boolean', default: false },
      rate: { type: 'string', default: '12500' },
      seconds: { type: 'string', default: '16' },
      // V8 flags for the gateway, e.g. "--max-old-space-size=64".
      'node-options': { type: 'string', default: '' },
      // The gateway runs with the systemd unit's runtime environment (NODE_OPTIONS, MALLOC_ARENA_MAX): results in tuned.*.
      tuned: { type: 'boolean', default: false },
      // Only the ack=fsync phase, once per count of --connections (e.g. "1,2,4,8"; default: the config's auto).
      'fsync-only': { type: 'boolean', default: false },
      // mqtt.connections of the ack=fsync gateway(s): a count or a comma-separated list of counts (fsync-only).
      connections: { type: 'string' },
      // fsync-only: also run this other build's main.js (e.g. main's dist/main.js) beside this checkout's, alternating
      // which goes first, --reps times per count: an A/B in one run on the same servers and load.
      compare: { type: 'string' },
      // Also run a peer side by side with the gateway (bench/peers/): `--peer node-red` → bench/results/peer-node-red.*.
      peer: { type: 'string' },
      // Only the peer comparison (with --peer), not the rest of the bench.
      'peer-only': { type: 'boolean', default: false },
      // More of the gateway's runtime environment, e.g. "MALLOC_ARENA_MAX=2" (space-separated NAME=value; wins).
      'runtime-env': { type: 'string', default: '' },
    },
  }).values;
}
export type BenchArgs = ReturnType<typeof benchArgs>;

export const FLUSH_INTERVAL_MS = 1000; // the sinks' default batch.flushIntervalMs, used by every gateway here

export function benchParams(argv: BenchArgs) {
  const quick = argv.quick === true;
  return {
    reps: Number(argv.reps ?? (quick ? 1 : 3)),
    publishers: Number(argv.publishers ?? 2),
    connectionsPerPublisher: 2,
    devices: 100,
    window: 1000,
    maxRateCount: quick ? 5_000 : 200_000,
    fsyncCount: quick ? 2_000 : 40_000,
    probeEvery: quick ? 100 : 1000,
    sweepRates: quick ? [1000] : [2000, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000],
    sweepMs: quick ? 3_000 : 10_000,
    latencyLimitMs: FLUSH_INTERVAL_MS + 250,
    backlogPoints: quick ? 20_000 : 1_000_000,
    idleSettleMs: quick ? 500 : 2_000,
    idleMs: quick ? 2_000 : 10_000,
    vmPollMs: 100,
    /** No progress for this long = stalled (reported as a problem, the phase moves on). */
    stallMs: quick ? 10_000 : 30_000,
  };
}
export type BenchParams = ReturnType<typeof benchParams>;

/** What the gateway (and the Node floor measured beside it) runs with besides the bench's own settings. */
/**
 * `--tuned` also runs what the unit's ExecStart runs (its script, e.g. the bundle, and its Node flags) unless
 * EDGEBRIDGE_TEST_MAIN / EDGEBRIDGE_TEST_NODE say otherwise: read by test/harness/GatewayProcess.ts at each start.
 */
export function useUnitExecStart(argv: BenchArgs): void {
  if (!argv.tuned) return;
  const { nodeArgs, main } = unitExecStart(path.join(HERE, '..', 'systemd', 'edgebridge.service'));
  process.env.EDGEBRIDGE_TEST_MAIN ||= path.join(HERE, '..', main);
  if (nodeArgs.length > 0) process.env.EDGEBRIDGE_TEST_NODE ||= `${process.execPath} ${nodeArgs.join(' ')}`;
}

export function runtimeEnvironment(argv: BenchArgs): Record<string, string> {
  const extra = Object.fromEntries(
    argv['runtime-env']
      .split(/\s+/)
      .filter((a) => a.includes('='))
      .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  if (argv.tuned) return { ...unitEnvironment(path.join(HERE, '..', 'systemd', 'edgebridge.service')), ...extra };
  return { ...(argv['node-options'] ? { NODE_OPTIONS: argv['node-options'] } : {}), ...extra };
}

export interface BenchContext extends Servers {
  readonly scenario: Scenario;
  readonly problems: string[];
  readonly P: BenchParams;
  readonly quick: boolean;
  readonly profile: boolean;
  readonly runtimeEnv: Record<string, string>;
  readonly redis: Redis;
}

function gatewayEnv(b: BenchContext, qos: 0 | 1, ack: AckMode): Record<string, string> {
  return {
    // One client id for every gateway of the run: one persistent session, which nothing publishes to while
    // no gateway is connected (the ceiling runs publish under `ceiling/`, not `sensors/`).
    EDGEBRIDGE_GATEWAY_ID: 'gw-bench',
    EDGEBRIDGE_MQTT_URL: b.mq.url,
    EDGEBRIDGE_MQTT_SUBSCRIPTIONS: `sensors/#:${qos}`,
    EDGEBRIDGE_INFLUX_URL: b.vm.url,
    EDGEBRIDGE_INFLUX_TOKEN: 'bench',
    EDGEBRIDGE_REDIS_URL: b.rd.url,
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

export function startGateway(
  b: BenchContext,
  name: string,
  qos: 0 | 1,
  ack: AckMode,
  env: Record<string, string> = {},
  main?: string,
): Promise<BenchGateway> {
  return BenchGateway.start({
    name,
    env: { ...gatewayEnv(b, qos, ack), ...env, ...b.runtimeEnv },
    profile: b.profile,
    ...(main !== undefined ? { main } : {}),
  });
}

/** How a phase shapes its load: the bench's fleet options besides the sizes of the run. */
export interface LoadShape {
  qos: 0 | 1;
  topicPrefix: string;
  measurement: string;
  count?: number;
  rate?: number;
  durationMs?: number;
  probeEvery?: number;
  devices?: number;
  extraFields?: number;
}

/** The fleet for one phase: P.publishers children sharing P.devices devices. */
export function fleetOptions(b: BenchContext, load: LoadShape): FleetOptions {
  const { P } = b;
  const children = P.publishers;
  const devices = load.devices ?? P.devices;
  const per = (i: number): number => Math.floor(devices / children) + (i < devices % children ? 1 : 0);
  return {
    url: b.mq.url,
    qos: load.qos,
    children,
    connectionsPerChild: P.connectionsPerPublisher,
    window: P.window,
    clientIdPrefix: 'bench-pub',
    ...(load.count !== undefined ? { count: load.count } : {}),
    ...(load.rate !== undefined ? { rate: load.rate } : {}),
    ...(load.durationMs !== undefined ? { durationMs: load.durationMs } : {}),
    generator: CLIMATE_MESSAGES,
    generatorOptions: (i): ClimateOptions => {
      let offset = 0;
      for (let j = 0; j < i; j++) offset += per(j);
      return {
        topicPrefix: load.topicPrefix,
        measurement: load.measurement,
        devices: per(i),
        deviceOffset: offset,
        probeEvery: load.probeEvery ?? P.probeEvery,
        ...(load.extraFields ? { extraFields: load.extraFields } : {}),
      };
    },
  };
}

/** Probes the fleet sent (the climate generator's summaries). */
export const probesSent = (summaries: unknown[]): number => summaries.reduce<number>((s, x) => s + (x as { probes: number }).probes, 0);

export const sinkOf = (s: GatewayStatus, name: string) => s.sinks.find((x) => x.name === name);

/** The sinks' last errors, for problem reports. */
export const sinkErrors = (s: GatewayStatus): string =>
  s.sinks
    .filter((x) => x.lastError !== null)
    .map((x) => `${x.name} (breaker ${x.breaker}, backlog ${x.backlog.points}): ${x.lastError?.message.slice(0, 160)}`)
    .join('; ');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
