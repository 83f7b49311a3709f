/** What the demo prints: where to look while it runs, and the summary at the end. */
import { tailFile, type GatewayStatus } from '../../test/harness/index.ts';
import type { SimStats } from '../simulator.ts';
import type { SinkCheck } from './demoChecks.ts';
import type { StartedServers } from './demoServers.ts';

const out = (line = ''): void => void process.stdout.write(line + '\n');

export function whereToLook({ mosquitto, redis, vm }: StartedServers, gwBase: string, logFile: string): void {
  out('');
  out('Where to look (while the demo runs):');
  out(`  gateway status   curl -s ${gwBase}/status`);
  out(`  health           ${gwBase}/healthz   ${gwBase}/readyz   ${gwBase}/metrics`);
  out(`  InfluxDB side    curl -s ${vm.url}/internal/force_flush; curl -sg '${vm.url}/api/v1/export?match[]=climate_t' | head -n 3`);
  out(`                   (VictoriaMetrics on ${vm.url} stands in for InfluxDB: the gateway writes ${vm.url}/api/v2/write)`);
  out(`  Redis            redis-cli -p ${redis.port} HGETALL 'eb:latest:{dev1}:climate'`);
  out(`                   redis-cli -p ${redis.port} XLEN 'eb:stream:{climate}'`);
  out(`  MQTT             mosquitto_sub -p ${mosquitto.port} -t 'sensors/#' -v`);
  out(`  gateway log      ${logFile}`);
  out('');
}

export interface Outcome {
  simStats: SimStats;
  finalStatus: GatewayStatus | undefined;
  gwExit: { code: number | null; signal: NodeJS.Signals | null };
  vmCheck: SinkCheck;
  redisCheck: SinkCheck;
  logFile: string;
}

/** The summary after the run; true when data landed in both sinks. */
export function printSummary({ simStats, finalStatus, gwExit, vmCheck, redisCheck, logFile }: Outcome): boolean {
  const mark = (ok: boolean): string => (ok ? 'OK  ' : 'FAIL');
  out('');
  out('Summary');
  out(
    `  simulator        published ${simStats.published}, acknowledged by the broker ${simStats.acknowledged}` +
      (simStats.skipped ? `, skipped ${simStats.skipped}` : '') +
      ` in ${simStats.elapsedSeconds.toFixed(1)} s`,
  );
  if (finalStatus !== undefined) {
    const m = finalStatus.messages;
    const sinkLines = finalStatus.sinks.map(
      (sink) =>
        `${sink.name} ${sink.pointsWritten} written` +
        (sink.pointsRejected ? `, ${sink.pointsRejected} rejected` : '') +
        (sink.pointsDropped ? `, ${sink.pointsDropped} dropped` : '') +
        (sink.backlog.points ? `, ${sink.backlog.points} in backlog` : ''),
    );
    out(
      `  gateway          received ${m.received}, accepted ${m.accepted}, unrouted ${m.unrouted}, rejected ${m.rejected}; ` +
        `exit ${gwExit.signal ?? gwExit.code}`,
    );
    out(`  sinks            ${sinkLines.join('; ')}`);
  } else {
    out(`  gateway          no /status answer; exit ${gwExit.signal ?? gwExit.code}; log: see below`);
  }
  out(`  ${mark(vmCheck.ok)} InfluxDB   ${vmCheck.line}`);
  out(`  ${mark(redisCheck.ok)} Redis      ${redisCheck.line}`);
  const ok = vmCheck.ok && redisCheck.ok;
  if (!ok) {
    const tail = tailFile(logFile, 20);
    if (tail) out(`\nLast lines of the gateway log:\n${tail}`);
  }
  return ok;
}
