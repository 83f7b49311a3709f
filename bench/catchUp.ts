/**
 * Catch-up: VictoriaMetrics down while a backlog builds in the spool, then restarted under live traffic; how fast
 * the backlog shrinks compared with the live rate, and that every point still lands.
 */
import { Fleet, peakRssBytes, round } from '../test/harness/index.ts';
import { fleetOptions, sinkErrors, sinkOf, sleep, type BenchContext } from './BenchContext.ts';
import type { BenchGateway } from './gateway.ts';
import { noteDisconnects } from './gatewayRun.ts';
import { dropRedisStreams, redisPoints, vmPoints } from './sinkCheck.ts';

export interface CatchUpResult {
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

type Sample = { t: number; backlog: number; written: number };

export async function catchUp(b: BenchContext, gw: BenchGateway, liveRate: number): Promise<CatchUpResult> {
  const { P, problems, vm } = b;
  const log = b.scenario.log;
  log(`catch-up: stopping VictoriaMetrics, building a backlog of ${P.backlogPoints} points`);
  await vm.stop();
  const disconnects0 = (await gw.status()).mqtt.disconnects;
  const fill = await Fleet.launch(
    fleetOptions(b, { qos: 1, topicPrefix: 'sensors', measurement: 'cu', count: P.backlogPoints, probeEvery: 0 }),
  );
  fill.start();
  const filled = await fill.done();
  let st = await gw.status();
  const deadline = Date.now() + 120_000;
  while ((sinkOf(st, 'influx')?.backlog.points ?? 0) < filled.acked && Date.now() < deadline) {
    await sleep(200);
    st = await gw.status();
  }
  const backlog = sinkOf(st, 'influx')?.backlog ?? { points: 0, bytes: 0, ageSeconds: 0 };
  log(
    `catch-up: backlog ${backlog.points} points (${round(backlog.bytes / 1e6, 1)} MB); live traffic at ${liveRate} msg/s, restarting VictoriaMetrics`,
  );
  const live = await Fleet.launch(fleetOptions(b, { qos: 1, topicPrefix: 'sensors', measurement: 'cul', rate: liveRate, probeEvery: 0 }));
  live.start();
  await sleep(1000);
  const restartAt = Date.now();
  await vm.restart();
  const samples = await drainSamples(b, gw, liveRate, restartAt);
  live.stop();
  const liveResult = await live.done();
  const w0 = samples[0]!.written;
  const first = samples[Math.max(0, samples.findIndex((x) => x.written > w0) - 1)]!;
  const end = samples[samples.length - 1]!;
  const secs = Math.max(0.001, (end.t - first.t) / 1000);
  await waitBacklogsEmpty(b, gw);
  const total = filled.acked + liveResult.acked;
  const landed = await countLanded(b, gw, total);
  noteDisconnects(b, 'catch-up', (await gw.status()).mqtt.disconnects - disconnects0);
  const lost = { influx: total - landed.influx, redis: total - landed.redis };
  if (lost.influx !== 0 || lost.redis !== 0)
    problems.push(`catch-up: published ${total}, VictoriaMetrics has ${landed.influx}, Redis XLEN ${landed.redis}`);
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

/** The influx sink's backlog and points written every 250 ms until it is back to what live traffic keeps in flight. */
async function drainSamples(b: BenchContext, gw: BenchGateway, liveRate: number, restartAt: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const threshold = liveRate * 1.5 + 5000; // "drained": back to what live traffic alone keeps in flight
  const drainDeadline = Date.now() + 900_000;
  while (Date.now() < drainDeadline) {
    const s = await gw.status();
    const sink = sinkOf(s, 'influx');
    samples.push({ t: Date.now(), backlog: sink?.backlog.points ?? 0, written: sink?.pointsWritten ?? 0 });
    if (samples.length > 1 && (sink?.backlog.points ?? 0) <= threshold) break;
    const before = samples.find((x) => x.t >= Date.now() - 30_000);
    if (Date.now() - restartAt > 60_000 && before !== undefined && before.written === (sink?.pointsWritten ?? 0)) {
      b.problems.push(`catch-up: influx stopped draining (backlog ${sink?.backlog.points}); last errors: ${sinkErrors(s) || 'none'}`);
      break;
    }
    await sleep(250);
  }
  return samples;
}

/** Waits until both backlogs are empty (or stalled for P.stallMs: a problem). */
async function waitBacklogsEmpty(b: BenchContext, gw: BenchGateway): Promise<void> {
  let lastSig = '';
  let lastProgress = Date.now();
  while (true) {
    const s = await gw.status();
    const bi = sinkOf(s, 'influx')?.backlog.points ?? 1;
    const br = sinkOf(s, 'redis')?.backlog.points ?? 1;
    if (bi === 0 && br === 0) return;
    const sig = `${bi}/${br}`;
    if (sig !== lastSig) {
      lastSig = sig;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > b.P.stallMs) {
      b.problems.push(
        `catch-up: sinks stalled ${b.P.stallMs / 1000} s with backlog influx/redis ${bi}/${br}; last errors: ${sinkErrors(s) || 'none'}`,
      );
      return;
    }
    await sleep(250);
  }
}

/** What the servers hold of the backlog (`cu`) and the live traffic (`cul`); the Redis streams are deleted after. */
async function countLanded(b: BenchContext, gw: BenchGateway, total: number): Promise<{ influx: number; redis: number }> {
  const { vm, redis } = b;
  let [vmCu, vmCul, rdCu, rdCul] = await Promise.all([
    vmPoints(vm, 'cu'),
    vmPoints(vm, 'cul'),
    redisPoints(redis, 'cu'),
    redisPoints(redis, 'cul'),
  ]);
  // A shortfall in VictoriaMetrics is counted again before it is called a loss, and VictoriaMetrics's own
  // counters of rows it ignored or could not parse are reported beside it (one unexplained shortfall was seen).
  for (let i = 0; i < 3 && vmCu + vmCul < total; i++) {
    await sleep(5000);
    [vmCu, vmCul] = await Promise.all([vmPoints(vm, 'cu'), vmPoints(vm, 'cul')]);
  }
  if (vmCu + vmCul < total) {
    const m = await (await fetch(`${vm.url}/metrics`)).text();
    const counters = m.split('\n').filter((l) => /^vm_rows_(ignored|invalid|inserted)_total/.test(l));
    b.problems.push(
      `catch-up: VictoriaMetrics counters: ${counters.join('; ')}; gateway influx: ${JSON.stringify(sinkOf(await gw.status(), 'influx'))}`,
    );
  }
  await dropRedisStreams(redis, 'cu');
  await dropRedisStreams(redis, 'cul');
  return { influx: vmCu + vmCul, redis: rdCu + rdCul };
}
