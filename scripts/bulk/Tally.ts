import { REJECT_REASONS, type RejectReason } from '../../src/pipeline/RouteResult.ts';
import type { Expectation } from './generateMessage.ts';

/** What a set of messages should become (the generator's expectations, summed). Plain data: it crosses IPC. */
export interface Tally {
  sent: number;
  accepted: number;
  unrouted: number;
  rejected: number;
  rejectedByReason: Record<RejectReason, number>;
  /** Points each sink must write. */
  points: { influx: number; redis: number };
  /** Messages per generator case. */
  cases: Record<string, number>;
}

export function emptyTally(): Tally {
  const byReason = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  return { sent: 0, accepted: 0, unrouted: 0, rejected: 0, rejectedByReason: byReason, points: { influx: 0, redis: 0 }, cases: {} };
}

export function count(tally: Tally, kase: string, expect: Expectation): void {
  tally.sent++;
  tally.cases[kase] = (tally.cases[kase] ?? 0) + 1;
  switch (expect.kind) {
    case 'ok':
      tally.accepted++;
      tally.points.influx += expect.influx;
      tally.points.redis += expect.redis;
      return;
    case 'unrouted':
      tally.unrouted++;
      return;
    case 'rejected':
      tally.rejected++;
      tally.rejectedByReason[expect.reason]++;
      return;
  }
}

export function addTally(into: Tally, from: Tally): void {
  into.sent += from.sent;
  into.accepted += from.accepted;
  into.unrouted += from.unrouted;
  into.rejected += from.rejected;
  for (const r of REJECT_REASONS) into.rejectedByReason[r] += from.rejectedByReason[r];
  into.points.influx += from.points.influx;
  into.points.redis += from.points.redis;
  for (const [k, n] of Object.entries(from.cases)) into.cases[k] = (into.cases[k] ?? 0) + n;
}
