/**
 * A real HealthServer (with the real GatewayMetrics) alone in a process, so an attack's cost shows in this process's
 * RSS and event loop and not in the attacker's. Prints `{"port":N}` once listening; answers IPC "rss" with
 * `{"rss":bytes,"cap":{…}}`. Limits come as JSON in argv[2] (the defaults when absent).
 */
import { pino } from 'pino';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { HealthServer } from '../../../src/health/HealthServer.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';

const source = new SourceStats();
source.connected = true;
const view: GatewayView = {
  gatewayId: 'gw-attack',
  version: 'test',
  startedAt: Date.now(),
  source,
  sinks: ['influx', 'redis'].map((name) => ({
    stats: new SinkStats(name, name),
    backlog: () => ({ points: 0, bytes: 0, oldestAt: undefined }),
    dropped: () => 0,
  })),
  spool: () => ({ type: 'memory', entries: 0, bytes: 0, maxBytes: 1 << 20, full: false }),
  shuttingDown: () => false,
};
const limits = process.argv[2] ? (JSON.parse(process.argv[2]) as Record<string, number>) : {};
const server = new HealthServer({
  host: '127.0.0.1',
  port: 0,
  view,
  metrics: new GatewayMetrics(view),
  logger: pino({ level: 'silent' }),
  limits,
});
await server.start();
process.send?.({ port: server.port });
process.on('message', (m) => {
  if (m === 'rss') process.send?.({ rss: process.memoryUsage().rss, cap: server.connectionCap });
  if (m === 'stop') void server.stop().then(() => process.exit(0));
});
