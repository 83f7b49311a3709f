/** The full bench's table for people: the same figures as the JSON record, with the method. */
import { median } from '../test/harness/index.ts';
import type { BenchContext } from './BenchContext.ts';
import { correctness, fmt, mb, memText, row } from './format.ts';
import type { BenchJson, BenchRuns } from './reportJson.ts';

type Lost = { influx: number; redis: number }[];

// Per run "influx/redis"; a negative figure is points stored more than once (a batch written twice), not a loss.
const lostText = (l: Lost): string =>
  l.every((x) => x.influx === 0 && x.redis === 0) ? '0' : l.map((x) => `${x.influx}/${x.redis}`).join(' ');
const pf = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

export function benchText(b: BenchContext, r: BenchRuns, json: BenchJson, runtimeText: string): string {
  const { P, problems } = b;
  const { rest, sw, cu } = r;
  const cpuRatio = median(r.gw0.map((g, i) => g.cpuUsPerMsg / r.ceil0[i]!.cpuUsPerMsg));
  const thrRatio = median(r.gw1.map((g, i) => g.msgPerSec / r.ceil1[i]!.msgPerSec));
  const { qos0: g0, qos1Write: g1, qos1Fsync: gf } = json.gateway;
  const { qos0: c0, qos1: c1 } = json.ceiling;
  const lines: string[] = [];
  const W = [34, 14, 14, 16, 16];
  const gwRow = (label: string, v0: string, v1: string): string => row([label, '', v0, '', v1], W);
  const medRuns = (g: typeof g0, k: 'landedSeconds' | 'slowestStatusMs', d: number): string => fmt(median(g.runs.map((x) => x[k])), d);
  const lat = (g: typeof g0, sink: 'influx' | 'redis'): string => `${fmt(g.latencyMs[sink].p50)}/${fmt(g.latencyMs[sink].p99)}`;
  lines.push(`edgebridge bench (${json.mode}) ${json.at}  ${json.machine.cores} cores, Node ${json.machine.node}, gateway ${runtimeText}`);
  lines.push(
    `publishers: ${P.publishers} child processes × ${P.connectionsPerPublisher} connections, ${P.devices} devices, payload {"t","h","p","ts"};` +
      ` max-rate runs: ${P.maxRateCount.toLocaleString('en-US')} msgs (fsync: ${P.fsyncCount.toLocaleString('en-US')}), medians of ${P.reps} rep(s), ceiling and gateway side by side per rep`,
  );
  lines.push('');
  lines.push(row(['max rate', 'ceiling QoS0', 'gateway QoS0', 'ceiling QoS1', 'gateway QoS1'], W));
  lines.push(row(['', 'bare sub', 'ack=write', 'bare sub', 'ack=write'], W));
  lines.push(row(['msg/s received', fmt(c0.msgPerSec), fmt(g0.msgPerSec), fmt(c1.msgPerSec), fmt(g1.msgPerSec)], W));
  lines.push(row(['CPU µs/msg', fmt(c0.cpuUsPerMsg, 2), fmt(g0.cpuUsPerMsg, 2), fmt(c1.cpuUsPerMsg, 2), fmt(g1.cpuUsPerMsg, 2)], W));
  lines.push(gwRow('lost influx/redis per rep (<0: dup)', lostText(g0.lost), lostText(g1.lost)));
  lines.push(gwRow('all points in both sinks after, s', medRuns(g0, 'landedSeconds', 1), medRuns(g1, 'landedSeconds', 1)));
  lines.push(gwRow('slowest /status answer, ms', medRuns(g0, 'slowestStatusMs', 0), medRuns(g1, 'slowestStatusMs', 0)));
  lines.push(gwRow('peak RSS (VmHWM)', mb(g0.peakRssBytes), mb(g1.peakRssBytes)));
  lines.push(gwRow('latency p50/p99 influx, ms', lat(g0, 'influx'), lat(g1, 'influx')));
  lines.push(gwRow('latency p50/p99 redis, ms', lat(g0, 'redis'), lat(g1, 'redis')));
  lines.push(gwRow('spool bytes/msg (status)', fmt(g0.spoolBytesPerMsg, 1), fmt(g1.spoolBytesPerMsg, 1)));
  lines.push(gwRow('disk write_bytes/msg (/proc io)', fmt(g0.diskWriteBytesPerMsg, 1), fmt(g1.diskWriteBytesPerMsg, 1)));
  lines.push(gwRow('write() bytes/msg (wchar, all fds)', fmt(g0.writeSyscallBytesPerMsg, 1), fmt(g1.writeSyscallBytesPerMsg, 1)));
  lines.push('');
  lines.push(
    `QoS 1 ack=fsync (${gf.messages.toLocaleString('en-US')} msgs): ${fmt(gf.msgPerSec)} msg/s (${fmt((100 * gf.msgPerSec) / g1.msgPerSec, 1)} % of ack=write), ` +
      `${fmt(gf.cpuUsPerMsg, 2)} µs/msg, lost ${lostText(gf.lost)}, fsyncs ${gf.fsyncs[0]}, latency p50/p99 influx ${lat(gf, 'influx')} ms, ` +
      `redis ${lat(gf, 'redis')} ms, spool ${fmt(gf.spoolBytesPerMsg, 1)} B/msg, disk ${fmt(gf.diskWriteBytesPerMsg, 1)} B/msg`,
  );
  lines.push('');
  const ra = json.ratios;
  lines.push(
    `ratio CPU µs/msg gateway/ceiling QoS 0:       ${fmt(cpuRatio, 2)}×  (target ≤ 2.5×)  ${pf(ra.cpuPerMsgQos0.pass)}   per rep: ${ra.cpuPerMsgQos0.perRep.join(', ')}`,
  );
  lines.push(
    `ratio throughput gateway/ceiling QoS 1 write: ${fmt(100 * thrRatio, 1)} %  (target ≥ 90 %)  ${pf(ra.throughputQos1Write.pass)}   per rep: ${ra.throughputQos1Write.perRep.join(', ')}`,
  );
  lines.push(
    `(also: CPU ratio QoS 1 ${fmt(ra.cpuPerMsgQos1.value, 2)}×, throughput ratio QoS 0 ${fmt(100 * ra.throughputQos0.value, 1)} %)`,
  );
  const m = json.memory;
  lines.push(
    `memory: peak RSS ${mb(m.peakRssBytes)} at full rate, idle ${mb(m.idleRssBytes)}  (target ≤ 80 MB, ≤ 50 MB)  ${pf(m.pass)}` +
      (m.pass
        ? ''
        : `   floor: Node with the gateway's libraries loaded and nothing started, ${mb(m.floorWithLibrariesBytes)} (see "at rest")`),
  );
  lines.push('');
  lines.push(
    `rate sweep (QoS 1, ack=write, ${P.sweepMs / 1000} s per step; pass = zero loss in both sinks and p99 < ${P.latencyLimitMs} ms in both):`,
  );
  const SW = [10, 10, 12, 18, 18, 10, 6];
  lines.push(row(['rate', 'achieved', 'lost i/r', 'influx p50/p99', 'redis p50/p99', 'µs/msg', ''], SW));
  for (const s of sw.steps) {
    const cells = [fmt(s.rate), fmt(s.achievedRate), `${s.lost.influx}/${s.lost.redis}`, `${fmt(s.p50Ms.influx)}/${fmt(s.p99Ms.influx)}`];
    cells.push(`${fmt(s.p50Ms.redis)}/${fmt(s.p99Ms.redis)}`, fmt(s.cpuUsPerMsg, 1), s.pass ? 'ok' : 'FAIL');
    lines.push(row(cells, SW) + (s.why ? `  ${s.why}` : ''));
  }
  lines.push(`highest steady rate: ${fmt(sw.maxSteadyRate)} msg/s`);
  lines.push('');
  lines.push(
    `catch-up: VictoriaMetrics stopped, backlog ${fmt(cu.backlogPoints)} points (${mb(cu.spoolBacklogBytes)} in the spool), restarted with live traffic at ${fmt(cu.liveRate)} msg/s:`,
  );
  lines.push(
    `  first write ${fmt(cu.breakerWaitSeconds, 1)} s after restart (breaker half-open 2 s); drained in ${fmt(cu.drainSeconds, 1)} s; ` +
      `backlog shrank ${fmt(cu.netDrainRate)} points/s (sink wrote ${fmt(cu.sinkWriteRate)} points/s incl. live);`,
  );
  lines.push(
    `  drain/live = ${fmt(cu.ratio, 1)}×  (target ≥ 5×)  ${pf(cu.ratio >= 5)}; lost influx/redis ${cu.lost.influx}/${cu.lost.redis}; peak RSS ${mb(cu.peakRssBytes)}`,
  );
  lines.push('');
  lines.push(
    `at rest: spawn → /readyz 200 in ${fmt(rest.readyMs)} ms; idle RSS ${mb(rest.idleRssBytes)} (anon ${mb(rest.idle.anon)}, file-backed ${mb(rest.idle.file)}); idle CPU ${fmt(rest.idleCpuMs)} ms over ${rest.idleSeconds} s (${fmt(rest.idleCpuPct, 2)} % of a core)`,
    '  the floor beside it, same runtime settings (RSS = anon + file-backed):',
    `    a Node process that only waits                         ${memText(rest.baseline.bare)}`,
    `    + http, https, tls, net, zlib, crypto loaded           ${memText(rest.baseline.builtins)}`,
    `    + the gateway's libraries loaded, nothing started      ${memText(rest.baseline.libraries)}`,
  );
  lines.push('');
  lines.push(...methodLines(b));
  if (r.profiles) {
    for (const [name, prof] of Object.entries(r.profiles)) {
      lines.push('');
      lines.push(`profile ${name} (node --cpu-prof, ${fmt(prof.totalMs)} ms non-idle), top self time:`);
      for (const t of prof.top) lines.push(`  ${fmt(t.pct, 1).padStart(5)} %  ${fmt(t.ms).padStart(6)} ms  ${t.fn}`);
    }
  }
  lines.push('');
  lines.push(
    `durations (s): ${Object.entries(json.durations)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  lines.push(correctness(problems));
  return lines.join('\n') + '\n';
}

function methodLines({ P }: BenchContext): string[] {
  return [
    'method:',
    '  msg/s = messages / (last one received − publish start); gateway "received" from /status polled every 100 ms.',
    '  CPU = utime+stime from /proc/<pid>/stat (100 Hz ticks) of the subscriber / gateway process, publish start → all',
    '  points written to both sinks (includes sink work and the /status polling). Publishers are separate processes.',
    `  landed = VictoriaMetrics samples (force_flush + /api/v1/export) and Redis XLEN, compared with messages published.`,
    `  latency: every ${P.probeEvery}th message (sweep: ~25/s per publisher) is a probe whose ts is its send time. Redis: stream`,
    `  entry ID (Redis clock at XADD) − ts, exact. VictoriaMetrics: polled every ${P.vmPollMs} ms (force_flush + export); first poll`,
    `  that shows the probe − ts, an upper bound (≤ ${P.vmPollMs} ms late).`,
    '  spool bytes/msg = Δspool.bytesWritten / received; disk = Δwrite_bytes of /proc/<pid>/io (block layer).',
  ];
}
