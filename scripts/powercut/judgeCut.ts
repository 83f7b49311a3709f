/** The verdict on one cut: what the publisher and the gateway had acknowledged, and what Redis holds after recovery. */
import { ACKED, type PublishShared } from '../chaos/SequencedPublisher.ts';

export interface CutInput {
  /** The cycle's seqs: [from, to). */
  from: number;
  to: number;
  cutAt: number;
  shared: PublishShared;
  gatewayAckedAt: ReadonlyMap<number, number>;
  landed: ReadonlySet<number>;
  ack: 'fsync' | 'write';
  /** ack=write: a lost acknowledged record may be at most this old at the cut. */
  writeWindowMs: number;
}

export interface CutCounts {
  publisherAcked: number;
  gatewayAcked: number;
  lostGatewayAcked: number;
  lostAgeMs: { min: number; max: number } | null;
  lostAtBroker: number;
  problems: string[];
}

export function judgeCut(c: CutInput): CutCounts {
  let publisherAcked = 0;
  let gatewayAcked = 0;
  let lostGatewayAcked = 0;
  let lostAtBroker = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let seq = c.from; seq < c.to; seq++) {
    const pubAcked = c.shared.state[seq] === ACKED;
    if (pubAcked) publisherAcked++;
    const gwAt = c.gatewayAckedAt.get(seq);
    const gwAcked = gwAt !== undefined && gwAt <= c.cutAt;
    if (gwAcked) gatewayAcked++;
    if (c.landed.has(seq)) continue;
    if (gwAcked) {
      lostGatewayAcked++;
      const age = c.cutAt - gwAt;
      min = Math.min(min, age);
      max = Math.max(max, age);
    } else if (pubAcked) lostAtBroker++;
  }
  const lostAgeMs = lostGatewayAcked > 0 ? { min, max } : null;
  const problems: string[] = [];
  if (c.ack === 'fsync' && lostGatewayAcked > 0) problems.push(`ack=fsync lost ${lostGatewayAcked} acknowledged messages`);
  if (c.ack === 'write' && lostAgeMs !== null && lostAgeMs.max > c.writeWindowMs) {
    problems.push(`ack=write lost a message acknowledged ${lostAgeMs.max} ms before the cut (window ${c.writeWindowMs} ms)`);
  }
  return { publisherAcked, gatewayAcked, lostGatewayAcked, lostAgeMs, lostAtBroker, problems };
}
