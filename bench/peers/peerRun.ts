/**
 * One load against a peer (Node-RED) or the gateway, measured the same way for both: the same fleet and message
 * set (QoS 0, `sensors/dev<i>/<measurement>`, probes included), what landed read back from VictoriaMetrics and
 * Redis (never from the process's own counters), CPU of the whole process from /proc/<pid>/stat (all threads)
 * from publish start until the last point landed, peak RSS (VmHWM) and the highest anonymous RSS sampled.
 *
 * The gateway is measured by the bench's own gatewayRun, unchanged (it also polls /status, whose small cost is
 * the gateway's). Node-RED has no status to ask: the run ends when Redis holds every published message and
 * VictoriaMetrics' inserted-rows counter has not moved for a second and a half (the join node's 1 s timer plus
 * a write), or when nothing moved in either sink for 10 s after the fleet finished while Node-RED was idle (under 3 %
 * of a core); its CPU is read at the last change.
 */
import { cpuMicros, Fleet, peakRssBytes, percentile, round, type VictoriaMetricsHandle } from '../../test/harness/index.ts';
import { fleetOptions, sleep, type BenchContext } from '../BenchContext.ts';
import type { BenchGateway } from '../gateway.ts';
import { gatewayRun } from '../gatewayRun.ts';
import { dropRedisStreams, redisPoints, redisProbeLatencies, vmPoints } from '../sinkCheck.ts';
import { MemorySampler } from './MemorySampler.ts';
import type { NodeRedProcess } from './NodeRedProcess.ts';

export interface PeerRunResult {
  label: string;
  rate: number;
  published: number;
  publishRate: number;
  landed: { influx: number; redis: number };
  lost: { influx: number; redis: number };
  cpuSeconds: number;
  /** CPU per message that landed (in the sink that got more): what a lost message cost is not counted as work. */
  cpuUsPerMsg: number;
  peakRssBytes: number;
  peakAnonBytes: number;
  /** Publish-to-XADD latency of the probes, ms (exact: from the stream entry ids). */
  redisP99Ms: number;
  landedSeconds: number;
  /** Times the MQTT connection dropped during the run (at QoS 0 whatever the broker held for it is gone). */
  mqttDisconnects: number;
}

export interface RateLoad {
  rate: number;
  durationMs: number;
}

/** Node-RED's end of a run: sinks quiet this long while it used under IDLE_SHARE of a core; or STALL_MS regardless. */
const QUIET_MS = 10_000;
const IDLE_SHARE = 0.03;
const STALL_MS = 120_000;

/** Every n-th message a probe, as gatewayRun does for a fixed-rate load. */
const probeEvery = (b: BenchContext, rate: number): number => Math.max(10, Math.round(rate / b.P.publishers / 25));

export async function gatewayPeerRun(
  b: BenchContext,
  gw: BenchGateway,
  label: string,
  measurement: string,
  load: RateLoad,
): Promise<PeerRunResult> {
  const d0 = (await gw.status()).mqtt.disconnects;
  const sampler = new MemorySampler(gw.pid).start();
  const r = await gatewayRun(b, gw, label, measurement, 0, 'write', load);
  const mem = sampler.stop();
  const cpuSeconds = (r.cpuUsPerMsg * Math.max(1, r.received)) / 1e6;
  return {
    label,
    rate: load.rate,
    published: r.published,
    publishRate: r.publishRate,
    landed: r.landed,
    lost: r.lost,
    cpuSeconds,
    cpuUsPerMsg: (cpuSeconds * 1e6) / Math.max(1, r.landed.influx, r.landed.redis),
    peakRssBytes: r.peakRssBytes,
    peakAnonBytes: mem.anon,
    redisP99Ms: r.latencyMs.redis.p99,
    landedSeconds: r.landedSeconds,
    mqttDisconnects: (await gw.status()).mqtt.disconnects - d0,
  };
}

export async function nodeRedRun(
  b: BenchContext,
  nr: NodeRedProcess,
  label: string,
  measurement: string,
  load: RateLoad,
): Promise<PeerRunResult> {
  const disconnects0 = nr.disconnects;
  const fleet = await Fleet.launch(
    fleetOptions(b, { qos: 0, topicPrefix: 'sensors', measurement, ...load, probeEvery: probeEvery(b, load.rate) }),
  );
  const sampler = new MemorySampler(nr.pid).start();
  const cpu0 = cpuMicros(nr.pid);
  const t0 = fleet.start();
  let published: number | undefined;
  let publishRate = 0;
  void fleet.done().then((r) => {
    published = r.acked;
    publishRate = r.rate;
  });
  let sig = '';
  let lastChange = Date.now();
  let cpu1 = cpu0;
  let landedAt = Date.now();
  const cpuAt: { at: number; cpu: number }[] = [];
  while (true) {
    await sleep(250);
    const [redis, rows] = await Promise.all([redisPoints(b.redis, measurement), vmInfluxRows(b.vm)]);
    const now = Date.now();
    const cpu = cpuMicros(nr.pid);
    cpuAt.push({ at: now, cpu });
    while (cpuAt.length > 0 && cpuAt[0]!.at < now - QUIET_MS) cpuAt.shift();
    if (`${redis}/${rows}` !== sig) {
      sig = `${redis}/${rows}`;
      lastChange = now;
      cpu1 = cpu;
      landedAt = now;
    }
    if (published !== undefined && redis >= published && now - lastChange >= 1500) break;
    // Nothing moved for QUIET_MS and Node-RED was idle meanwhile: nothing more is coming (the rest was lost). On
    // a loaded machine it can be busy for seconds without a write landing, so quiet sinks alone do not decide.
    const busyUs = cpu - (cpuAt[0]?.cpu ?? cpu);
    if (published !== undefined && now - lastChange >= QUIET_MS && busyUs < IDLE_SHARE * QUIET_MS * 1000) break;
    if (now - lastChange > STALL_MS) {
      b.problems.push(
        `${label}: nothing landed for ${STALL_MS / 1000} s (Node-RED busy ${round(busyUs / 1000)} ms of the last ${QUIET_MS / 1000} s)`,
      );
      break;
    }
  }
  const mem = sampler.stop();
  const peak = peakRssBytes(nr.pid);
  const pub = await fleet.done();
  const [influx, redis, lat] = await Promise.all([
    vmPoints(b.vm, measurement),
    redisPoints(b.redis, measurement),
    redisProbeLatencies(b.redis, measurement),
  ]);
  await dropRedisStreams(b.redis, measurement);
  if (pub.failed > 0) b.problems.push(`${label}: ${pub.failed} publishes failed`);
  const cpuSeconds = (cpu1 - cpu0) / 1e6;
  const disconnects = nr.disconnects - disconnects0;
  return {
    label,
    rate: load.rate,
    published: pub.acked,
    publishRate: publishRate || pub.rate,
    landed: { influx, redis },
    lost: { influx: pub.acked - influx, redis: pub.acked - redis },
    cpuSeconds,
    cpuUsPerMsg: (cpuSeconds * 1e6) / Math.max(1, influx, redis),
    peakRssBytes: peak,
    peakAnonBytes: mem.anon,
    redisP99Ms: percentile(lat, 99),
    landedSeconds: (landedAt - t0) / 1000,
    mqttDisconnects: disconnects,
  };
}

/** VictoriaMetrics' count of rows received over the InfluxDB protocol: cheap progress, no export. */
async function vmInfluxRows(vm: VictoriaMetricsHandle): Promise<number> {
  const text = await (await fetch(`${vm.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = /^vm_rows_inserted_total\{type="influx"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}
