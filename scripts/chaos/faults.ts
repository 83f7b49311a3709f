/**
 * The fault schedule: every kind `faultsEach` times, shuffled by the seeded PRNG, one per slot over the middle
 * 80 % of the planned publishing time, injected one after the other (never two at once).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayProcess, MosquittoHandle, RedisHandle, VictoriaMetricsHandle } from '../../test/harness/index.ts';
import { FAULT_KINDS, type FaultKind, type FaultRecord } from './types.ts';

export interface FaultTargets {
  mq: MosquittoHandle;
  rd: RedisHandle;
  vm: VictoriaMetricsHandle;
  gateway: () => GatewayProcess;
  /** Kills nothing: starts a new gateway on the same spool, port and client id, waiting until it is alive. */
  restartGateway: () => Promise<GatewayProcess>;
  /** Called right before the gateway is killed (its last disk-write sample). */
  beforeGatewayKill: (old: GatewayProcess) => void;
  since: () => number;
  log: (line: string) => void;
}

export function planFaults(
  rnd: () => number,
  faultsEach: number,
  windowStart: number,
  windowLen: number,
): { kind: FaultKind; at: number }[] {
  const plan: FaultKind[] = [];
  for (const kind of FAULT_KINDS) for (let i = 0; i < faultsEach; i++) plan.push(kind);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  const slot = plan.length > 0 ? windowLen / plan.length : 0;
  return plan.map((kind, i) => ({ kind, at: windowStart + slot * i + rnd() * slot * 0.6 }));
}

/** Injects the schedule in order; pushes a FaultRecord into `faults` as each one is over. */
export async function injectFaults(
  t: FaultTargets,
  rnd: () => number,
  schedule: { kind: FaultKind; at: number }[],
  faults: FaultRecord[],
): Promise<void> {
  const between = (lo: number, hi: number): number => Math.round(lo + rnd() * (hi - lo));
  const { mq, rd, vm, log } = t;
  for (const { kind, at } of schedule) {
    const wait = at - t.since();
    if (wait > 0) await sleep(wait);
    const startedAt = t.since();
    let downMs = 0;
    switch (kind) {
      case 'gateway': {
        downMs = between(500, 3000);
        const old = t.gateway();
        t.beforeGatewayKill(old);
        log(`FAULT gateway: SIGKILL pid ${old.pid}, down ${downMs} ms`);
        old.signal('SIGKILL');
        await old.exited();
        await sleep(downMs);
        const gw = await t.restartGateway();
        log(`gateway restarted: pid ${gw.pid}`);
        break;
      }
      case 'redis':
        downMs = between(500, 3000);
        log(`FAULT redis: SIGKILL pid ${rd.pid}, down ${downMs} ms`);
        await rd.kill();
        await sleep(downMs);
        await rd.restart();
        log(`redis restarted: pid ${rd.pid}`);
        break;
      case 'vm':
        downMs = between(1000, 5000);
        log(`FAULT vm: SIGTERM pid ${vm.pid}, down ${downMs} ms`);
        await vm.stop();
        await sleep(downMs);
        await vm.restart();
        log(`vm restarted: pid ${vm.pid}`);
        break;
      case 'mqtt':
        downMs = between(1000, 3000);
        log(`FAULT mqtt: SIGTERM pid ${mq.pid}, down ${downMs} ms`);
        await mq.stop();
        await sleep(downMs);
        await mq.restart();
        log(`mqtt restarted: pid ${mq.pid}`);
        break;
    }
    faults.push({ kind, at: startedAt, downMs, upAt: t.since() });
  }
}
