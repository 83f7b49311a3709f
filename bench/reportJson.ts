/** The full bench's `{"bench":...}` record: medians over the repetitions, the ratios and their targets. */
import os from 'node:os';
import { median, round } from '../test/harness/index.ts';
import { FLUSH_INTERVAL_MS, type BenchContext } from './BenchContext.ts';
import type { AtRestResult } from './atRest.ts';
import type { CatchUpResult } from './catchUp.ts';
import type { CeilingResult } from './ceiling.ts';
import type { GatewayRunResult } from './gatewayRun.ts';
import type { SelfTime } from './profile.ts';
import type { SweepResult } from './sweep.ts';

export interface BenchRuns {
  rest: AtRestResult;
  ceil0: CeilingResult[];
  ceil1: CeilingResult[];
  gw0: GatewayRunResult[];
  gw1: GatewayRunResult[];
  fsyncRun: GatewayRunResult;
  sw: SweepResult;
  cu: CatchUpResult;
  profiles: Record<string, { totalMs: number; top: SelfTime[] }> | undefined;
  totalSeconds: number;
}

const summarize = (runs: GatewayRunResult[]) => ({
  messages: runs[0]!.published,
  msgPerSec: round(median(runs.map((r) => r.msgPerSec))),
  cpuUsPerMsg: round(median(runs.map((r) => r.cpuUsPerMsg)), 2),
  peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
  latencyMs: {
    influx: { p50: round(median(runs.map((r) => r.latencyMs.influx.p50))), p99: round(median(runs.map((r) => r.latencyMs.influx.p99))) },
    redis: { p50: round(median(runs.map((r) => r.latencyMs.redis.p50))), p99: round(median(runs.map((r) => r.latencyMs.redis.p99))) },
  },
  landed: runs.map((r) => r.landed),
  lost: runs.map((r) => r.lost),
  spoolBytesPerMsg: round(median(runs.map((r) => r.spoolBytesPerMsg)), 1),
  diskWriteBytesPerMsg: round(median(runs.map((r) => r.diskWriteBytesPerMsg)), 1),
  writeSyscallBytesPerMsg: round(median(runs.map((r) => r.writeSyscallBytesPerMsg)), 1),
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
  msgPerSec: round(median(runs.map((r) => r.msgPerSec))),
  cpuUsPerMsg: round(median(runs.map((r) => r.cpuUsPerMsg)), 2),
  runs: runs.map((r) => ({ msgPerSec: round(r.msgPerSec), cpuUsPerMsg: round(r.cpuUsPerMsg, 2), publishRate: round(r.publishRate) })),
});

export function benchJson(b: BenchContext, r: BenchRuns) {
  const { P, problems } = b;
  const { rest, ceil0, ceil1, gw0, gw1, sw, cu } = r;
  const ratioCpu0 = gw0.map((g, i) => g.cpuUsPerMsg / ceil0[i]!.cpuUsPerMsg);
  const ratioCpu1 = gw1.map((g, i) => g.cpuUsPerMsg / ceil1[i]!.cpuUsPerMsg);
  const ratioThr0 = gw0.map((g, i) => g.msgPerSec / ceil0[i]!.msgPerSec);
  const ratioThr1 = gw1.map((g, i) => g.msgPerSec / ceil1[i]!.msgPerSec);
  const cpuRatio = median(ratioCpu0);
  const thrRatio = median(ratioThr1);
  const peakRss = Math.max(...gw0.map((g) => g.peakRssBytes), ...gw1.map((g) => g.peakRssBytes));
  return {
    bench: 'edgebridge',
    version: 1,
    mode: b.quick ? 'quick' : 'full',
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, node: process.version },
    setup: {
      gatewayEnv: b.runtimeEnv,
      reps: P.reps,
      publishers: P.publishers,
      connectionsPerPublisher: P.connectionsPerPublisher,
      devices: P.devices,
      probeEvery: P.probeEvery,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      vmPollMs: P.vmPollMs,
    },
    ceiling: { qos0: summarizeCeil(ceil0), qos1: summarizeCeil(ceil1) },
    gateway: { qos0: summarize(gw0), qos1Write: summarize(gw1), qos1Fsync: summarize([r.fsyncRun]) },
    ratios: {
      cpuPerMsgQos0: { value: round(cpuRatio, 2), target: '<= 2.5', pass: cpuRatio <= 2.5, perRep: ratioCpu0.map((x) => round(x, 2)) },
      cpuPerMsgQos1: { value: round(median(ratioCpu1), 2), perRep: ratioCpu1.map((x) => round(x, 2)) },
      throughputQos0: { value: round(median(ratioThr0), 3), perRep: ratioThr0.map((x) => round(x, 3)) },
      throughputQos1Write: {
        value: round(thrRatio, 3),
        target: '>= 0.90',
        pass: thrRatio >= 0.9,
        perRep: ratioThr1.map((x) => round(x, 3)),
      },
    },
    memory: {
      peakRssBytes: peakRss,
      idleRssBytes: rest.idleRssBytes,
      target: 'peak <= 80 MB, idle <= 50 MB',
      pass: peakRss <= 80 * 1048576 && rest.idleRssBytes <= 50 * 1048576,
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
    ...(r.profiles ? { profile: r.profiles } : {}),
    durations: { ...b.scenario.phaseSeconds, total: round(r.totalSeconds, 1) },
    correct: problems.length === 0,
    problems,
  };
}
export type BenchJson = ReturnType<typeof benchJson>;
