/**
 * One load against a running gateway, measured: flat out (count) or at a fixed rate (rate, durationMs). Status is
 * polled every 100 ms (its own cost is part of the gateway's CPU; small). CPU, I/O and spool counters are deltas
 * from publish start to the moment both sinks have written every accepted point.
 */
import {
  cpuMicros,
  Fleet,
  ioCounters,
  peakRssBytes,
  percentile,
  round,
  type AckMode,
  type FleetResult,
  type GatewayStatus,
} from '../test/harness/index.ts';
import { fleetOptions, probesSent, sinkErrors, sinkOf, sleep, type BenchContext, type LoadShape } from './BenchContext.ts';
import type { BenchGateway } from './gateway.ts';
import { dropRedisStreams, redisPoints, redisProbeLatencies, vmPoints, VmProbePoller } from './sinkCheck.ts';

export interface GatewayRunResult {
  label: string;
  qos: 0 | 1;
  ack: AckMode;
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

export type Load = { count: number } | { rate: number; durationMs: number };
export type Shape = Pick<LoadShape, 'devices' | 'extraFields'>;

const written = (s: GatewayStatus): { influx: number; redis: number } => ({
  influx: sinkOf(s, 'influx')?.pointsWritten ?? 0,
  redis: sinkOf(s, 'redis')?.pointsWritten ?? 0,
});

export async function gatewayRun(
  b: BenchContext,
  gw: BenchGateway,
  label: string,
  measurement: string,
  qos: 0 | 1,
  ack: AckMode,
  load: Load,
  shape: Shape = {},
): Promise<GatewayRunResult> {
  const { P, problems } = b;
  const probeEvery = 'rate' in load ? { probeEvery: Math.max(10, Math.round(load.rate / P.publishers / 25)) } : {};
  const fleet = await Fleet.launch(fleetOptions(b, { qos, topicPrefix: 'sensors', measurement, ...shape, ...load, ...probeEvery }));
  const poller = new VmProbePoller(b.vm, measurement, P.vmPollMs);
  const s0 = await gw.status();
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
  noteDisconnects(b, label, last.mqtt.disconnects - s0.mqtt.disconnects);
  if (gw.statusTimeouts > 0) {
    problems.push(
      `${label}: /status did not answer within 5 s ${gw.statusTimeouts} time(s) (slowest answer ${round(gw.slowestStatusMs)} ms)`,
    );
    gw.statusTimeouts = 0;
  }
  const slowestStatusMs = gw.slowestStatusMs;
  gw.slowestStatusMs = 0;
  const peak = peakRssBytes(gw.pid);
  const p = pub ?? (await fleet.done());
  const received = last.messages.received - s0.messages.received;
  if (receivedAt === 0) receivedAt = landedAt;
  const vmLat = await poller.finish(probesSent(p.summaries), 15_000);
  const [influxPoints, redisPts, redisLat] = await Promise.all([
    vmPoints(b.vm, measurement),
    redisPoints(b.redis, measurement),
    redisProbeLatencies(b.redis, measurement),
  ]);
  await dropRedisStreams(b.redis, measurement);
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
export function noteDisconnects(b: BenchContext, label: string, n: number): void {
  if (n > 0)
    b.problems.push(`${label}: the gateway's MQTT connection dropped ${n} time(s) (the broker then redelivers what was unacknowledged)`);
}

export function checkLanded(b: BenchContext, r: GatewayRunResult): void {
  if (r.lost.influx !== 0 || r.lost.redis !== 0) {
    const dup = r.lost.influx < 0 || r.lost.redis < 0 ? ' (more than published: a batch was stored twice)' : '';
    b.problems.push(`${r.label}: published ${r.published}, VictoriaMetrics has ${r.landed.influx}, Redis XLEN ${r.landed.redis}${dup}`);
  }
}
