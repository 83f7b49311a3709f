/** The rate sweep: fixed-rate steps → the highest rate with zero loss and p99 latency < flush interval + 250 ms. */
import { round } from '../test/harness/index.ts';
import type { BenchContext } from './BenchContext.ts';
import type { BenchGateway } from './gateway.ts';
import { checkLanded, gatewayRun } from './gatewayRun.ts';

export interface SweepStep {
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

export interface SweepResult {
  steps: SweepStep[];
  maxSteadyRate: number;
}

export async function sweep(b: BenchContext, gw: BenchGateway): Promise<SweepResult> {
  const { P, quick } = b;
  const steps: SweepStep[] = [];
  let maxSteadyRate = 0;
  for (const rate of P.sweepRates) {
    b.scenario.log(`sweep: ${rate} msg/s for ${P.sweepMs / 1000} s`);
    const r = await gatewayRun(b, gw, `sweep ${rate}`, `s${rate}`, 1, 'write', { rate, durationMs: P.sweepMs });
    const why: string[] = [];
    if (r.lost.influx !== 0 || r.lost.redis !== 0) why.push(`lost ${r.lost.influx}/${r.lost.redis}`);
    if (!quick) {
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
    if (quick) checkLanded(b, r);
    if (!step.pass) break;
    maxSteadyRate = rate;
  }
  return { steps, maxSteadyRate };
}
