/**
 * Diagnostics for missing seqs: when they were published and acknowledged, the faults near them, when the
 * gateway wrote their neighbours to Redis, and the last log lines of every gateway process.
 */
import type { GatewayProcess } from '../../test/harness/index.ts';
import type { PublishShared } from './SequencedPublisher.ts';
import { missingAll, ranges, redisIdsBySeq } from './sinkSeqs.ts';
import type { FaultRecord } from './types.ts';

export function lossReport(
  sinks: { influx: number[]; redis: number[] },
  shared: PublishShared,
  faults: FaultRecord[],
  gateways: GatewayProcess[],
): string[] {
  const { n, devices, t0 } = shared;
  const report: string[] = [];
  const describeLoss = (sink: string, values: number[]): void => {
    const miss = missingAll(values, n);
    if (miss.length === 0) return;
    report.push(`${sink}: ${miss.length} missing: ${ranges(miss).join(', ')}`);
    for (const seq of miss.slice(0, 5)) {
      const ackAt = shared.ackedAt[seq]!;
      const near = faults
        .filter((f) => ackAt >= f.at - 5000 && ackAt <= f.upAt + 10_000)
        .map((f) => `${f.kind}@${(f.at / 1000).toFixed(1)}s-${(f.upAt / 1000).toFixed(1)}s`);
      // When did the gateway write the neighbours (published at about the same moment) to Redis?
      const neighbours = [seq - 2, seq - 1, seq + 1, seq + 2]
        .filter((x) => x >= 0 && x < n)
        .map((x) => {
          const id = redisIdsBySeq.get(x);
          return id === undefined ? `${x}:-` : `${x}:+${((Number(id.split('-')[0]) - t0) / 1000).toFixed(3)}s`;
        });
      report.push(
        `  seq ${seq} dev${seq % devices} ts ${shared.ts[seq]} (+${((shared.ts[seq]! - t0) / 1000).toFixed(3)}s) ` +
          `broker-acked at +${(ackAt / 1000).toFixed(3)}s; faults near: ${near.join(' ') || 'none'}; ` +
          `neighbours written to redis at ${neighbours.join(' ')}`,
      );
    }
    // Acknowledgement times of all missing seqs, as a span
    const acks = miss.map((s) => shared.ackedAt[s]!).sort((a, b) => a - b);
    report.push(`  broker-ack times of missing seqs: +${(acks[0]! / 1000).toFixed(3)}s … +${(acks.at(-1)! / 1000).toFixed(3)}s`);
  };
  describeLoss('influx', sinks.influx);
  describeLoss('redis', sinks.redis);
  if (report.length > 0) {
    report.push(`faults: ${faults.map((f) => `${f.kind}@+${(f.at / 1000).toFixed(1)}s..+${(f.upAt / 1000).toFixed(1)}s`).join(' ')}`);
    for (const [i, g] of gateways.entries()) {
      const lines = g.stdout.split('\n').filter((l) => l.trim().length > 0);
      report.push(`gateway #${i + 1} pid ${g.pid}: ${lines.length} log lines (warn+)`);
      for (const l of lines.slice(-15)) report.push(`  ${l.slice(0, 400)}`);
      if (g.stderr.trim()) report.push(`  stderr: ${g.stderr.slice(-1000)}`);
    }
  }
  return report;
}
