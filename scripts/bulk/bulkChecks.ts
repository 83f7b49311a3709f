/**
 * What the bulk run compares, exactly: the gateway's counters with the generator's expectation and with what was
 * sent, the points in each store with what each sink wrote, and the dead letters with the rejections.
 */
import { REJECT_REASONS } from '../../src/pipeline/RouteResult.ts';
import type { GatewayStatus } from '../../test/harness/index.ts';
import type { DeadLetterWatch } from './DeadLetterWatch.ts';
import type { Tally } from './Tally.ts';

export interface Check {
  what: string;
  expected: number;
  actual: number;
  ok: boolean;
}

export interface Observed {
  n: number;
  acked: number;
  expected: Tally;
  final: GatewayStatus;
  victoriaMetricsPoints: number;
  vmInvalidRows: number;
  redisStreamEntries: number;
  watch: DeadLetterWatch;
  aliveAtEnd: boolean;
  exitCode: number | null;
}

export function bulkChecks(o: Observed): Check[] {
  const { n, expected, final, watch } = o;
  const m = final.messages;
  const sink = (name: string) => final.sinks.find((k) => k.name === name)!;
  const checks: Check[] = [];
  const check = (what: string, exp: number, actual: number): void => void checks.push({ what, expected: exp, actual, ok: exp === actual });
  check('publishes acknowledged by the broker', n, o.acked);
  check('received', n, m.received);
  check('accepted (written)', expected.accepted, m.accepted);
  check('unrouted', expected.unrouted, m.unrouted);
  check('rejected', expected.rejected, m.rejected);
  for (const r of REJECT_REASONS) check(`  rejected ${r}`, expected.rejectedByReason[r], m.rejectedByReason[r] ?? 0);
  check('accepted + rejected + unrouted = sent', n, m.accepted + m.rejected + m.unrouted);
  check('influx points written', expected.points.influx, sink('influx').pointsWritten);
  check('  points in VictoriaMetrics', expected.points.influx, o.victoriaMetricsPoints);
  check('  lines VictoriaMetrics could not parse', 0, o.vmInvalidRows);
  check('redis points written', expected.points.redis, sink('redis').pointsWritten);
  check('  entries in Redis streams', expected.points.redis, o.redisStreamEntries);
  check(
    'sink points rejected or dropped',
    0,
    final.sinks.reduce((s, k) => s + k.pointsRejected + k.pointsDropped, 0),
  );
  check('dead letters published + dropped = rejected', m.rejected, m.deadLettered + m.deadLetterDropped);
  check('dead letters received = published', m.deadLettered, watch.received);
  check('dead letters not valid JSON with a reason', 0, watch.malformed);
  if (m.deadLetterDropped === 0) {
    for (const r of REJECT_REASONS) check(`  dead letters ${r}`, expected.rejectedByReason[r], watch.byReason[r] ?? 0);
  }
  check('gateway MQTT disconnects (each redelivers)', 0, final.mqtt.disconnects);
  check('gateway alive at the end (1 = yes)', 1, o.aliveAtEnd ? 1 : 0);
  check('gateway exit code after SIGTERM', 0, o.exitCode ?? -1);
  return checks;
}

export function formatTable(checks: readonly Check[], footer: readonly string[]): string {
  const w = Math.max(...checks.map((c) => c.what.length));
  const num = (x: number) => x.toLocaleString('en-US').padStart(11);
  const lines = [`${'check'.padEnd(w)}    expected       actual`, '-'.repeat(w + 30)];
  for (const c of checks) lines.push(`${c.what.padEnd(w)} ${num(c.expected)}  ${num(c.actual)}  ${c.ok ? 'ok' : 'MISMATCH'}`);
  return [...lines, '-'.repeat(w + 30), ...footer].join('\n');
}
