import { Counter, Gauge, type Registry } from 'prom-client';
import { SKIP_REASONS } from '../pipeline/sparkplug/metricFields.ts';
import type { SparkplugStats } from '../pipeline/sparkplug/SparkplugStats.ts';

/** The Sparkplug host's metrics (only when a route has `format: sparkplug`); copied from its counters when scraped. */
export function registerSparkplugMetrics(registers: Registry[], stats: SparkplugStats): void {
  new Counter({
    name: 'edgebridge_sparkplug_metrics_skipped_total',
    help: 'Sparkplug metrics (or DataSet cells, template members, array elements) that wrote no field, by reason (bytes: Bytes/File; null; not_finite; too_long; unsupported datatype; bad_name; definition: a template definition; too_deep; bad_time)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const reason of SKIP_REASONS) this.labels(reason).inc(stats.skipped.get(reason) ?? 0);
    },
  });
  const counters: [string, string, () => number][] = [
    [
      'edgebridge_sparkplug_rebirths_sent_total',
      'Rebirth requests (NCMD Node Control/Rebirth) sent to edge nodes',
      () => stats.rebirthsSent,
    ],
    [
      'edgebridge_sparkplug_rebirths_suppressed_total',
      'Rebirth requests not sent: sparkplug.rebirth off, or within the node’s sparkplug.rebirthMinIntervalMs',
      () => stats.rebirthsSuppressed,
    ],
    [
      'edgebridge_sparkplug_rebirths_unsent_total',
      'Rebirth requests not sent because the broker was not connected',
      () => stats.rebirthsUnsent,
    ],
    ['edgebridge_sparkplug_nodes_evicted_total', 'Edge nodes forgotten beyond sparkplug.maxNodes', () => stats.nodesEvicted],
    ['edgebridge_sparkplug_store_errors_total', 'Sparkplug alias-map files that could not be written or read', () => stats.storeErrors],
  ];
  for (const [name, help, read] of counters) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
  new Gauge({
    name: 'edgebridge_sparkplug_nodes',
    help: 'Sparkplug edge nodes known, by state (online: born and not dead; offline)',
    labelNames: ['state'],
    registers,
    collect() {
      this.set({ state: 'online' }, stats.nodesOnline);
      this.set({ state: 'offline' }, stats.nodes - stats.nodesOnline);
    },
  });
}
