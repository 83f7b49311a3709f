/** The bulk run's report: the table of checks with what else went wrong, and the `bulk-json {...}` line. */
import type { GatewayStatus } from '../../test/harness/index.ts';
import { formatTable, type Check } from './bulkChecks.ts';
import type { DeadLetterWatch } from './DeadLetterWatch.ts';
import type { RssSampler } from './RssSampler.ts';
import type { Tally } from './Tally.ts';

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
const round1 = (x: number): number => Math.round(x * 10) / 10;

export interface BulkFigures {
  seed: number;
  nodeOptions: string;
  n: number;
  final: GatewayStatus;
  victoriaMetricsPoints: number;
  redisStreamEntries: number;
  watch: DeadLetterWatch;
  rss: RssSampler;
  externalBytes: number;
  publishMs: number;
  elapsedMs: number;
  expected: Tally;
  checks: Check[];
  logs: Record<string, unknown>[];
}

export function bulkReport(f: BulkFigures): { json: string; table: string } {
  const { n, final, victoriaMetricsPoints, watch, rss, externalBytes, publishMs, elapsedMs, expected, checks } = f;
  const ok = checks.every((c) => c.ok);
  const m = final.messages;
  const sink = (name: string) => final.sinks.find((k) => k.name === name)!;
  const messagesPerSecond = Math.round(n / (elapsedMs / 1000));
  const summary = {
    ok,
    seed: f.seed,
    nodeOptions: f.nodeOptions,
    sent: n,
    received: m.received,
    accepted: m.accepted,
    unrouted: m.unrouted,
    rejected: m.rejected,
    rejectedByReason: m.rejectedByReason,
    pointsWritten: { influx: sink('influx').pointsWritten, redis: sink('redis').pointsWritten },
    victoriaMetricsPoints,
    redisStreamEntries: f.redisStreamEntries,
    deadLetters: { published: m.deadLettered, dropped: m.deadLetterDropped, received: watch.received },
    mqtt: { connects: final.mqtt.connects, disconnects: final.mqtt.disconnects },
    peakRssMB: mb(rss.peakBytes),
    finalRssMB: mb(rss.lastBytes),
    peakRssAnonMB: mb(rss.peakAnonBytes),
    finalRssAnonMB: mb(rss.lastAnonBytes),
    rssEvery5sMB: rss.timeline.map(mb),
    finalHeapUsedMB: mb(final.process.heapUsedBytes),
    finalExternalMB: mb(externalBytes),
    rssSamples: rss.samples,
    publishSeconds: round1(publishMs / 1000),
    elapsedSeconds: round1(elapsedMs / 1000),
    messagesPerSecond,
    cases: expected.cases,
    failed: checks.filter((c) => !c.ok).map((c) => c.what.trim()),
  };
  // The gateway's own warnings and errors, without the per-message ones (rejected, unrouted): what went wrong.
  const notable = f.logs
    .filter(
      (l) => ['warn', 'error', 'fatal'].includes(l.level as string) && l.msg !== 'message rejected' && l.msg !== 'message matches no route',
    )
    .map((l) => `gateway log: ${JSON.stringify(l).slice(0, 300)}`);
  const table = formatTable(checks, [
    ...notable.slice(0, 20),
    `gateway RSS peak ${mb(rss.peakBytes)} MB, final ${mb(rss.lastBytes)} MB; of it anonymous (RssAnon) peak ${mb(rss.peakAnonBytes)} MB, final ${mb(rss.lastAnonBytes)} MB (${rss.samples} samples, every 500 ms); at the end heap used ${mb(final.process.heapUsedBytes)} MB, external (Buffers) ${mb(externalBytes)} MB`,
    `RSS every 5 s, MB: ${rss.timeline.map(mb).join(' ')}`,
    `elapsed ${round1(elapsedMs / 1000)} s (publishing ${round1(publishMs / 1000)} s): ${messagesPerSecond} msg/s end to end`,
  ]);
  return { json: `bulk-json ${JSON.stringify(summary)}`, table };
}
