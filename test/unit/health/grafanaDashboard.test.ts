import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';

const DASHBOARD = new URL('../../../docs/grafana/edgebridge.json', import.meta.url);

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

/** Every series name /metrics serves: the registry's metrics, histograms with their _bucket, _sum and _count. */
async function servedNames(): Promise<Set<string>> {
  const view: GatewayView = {
    gatewayId: 'gw',
    version: '0',
    startedAt: Date.now(),
    source: new SourceStats(),
    sinks: [{ stats: new SinkStats('influx', 'influx'), backlog: () => ({ points: 0, bytes: 0, oldestAt: undefined }), dropped: () => 0 }],
    spool: () => ({ type: 'memory', entries: 0, bytes: 0, maxBytes: 1, full: false }),
    shuttingDown: () => false,
  };
  const metrics = new GatewayMetrics(view);
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
    if (String(m.type) === 'summary') for (const suffix of ['_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

describe('Grafana dashboard (docs/grafana/edgebridge.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string }[] };
  };
  const queried = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('queries only metrics that /metrics serves', async () => {
    const served = await servedNames();
    const unknown: string[] = [];
    for (const { panel, expr } of queried) {
      for (const [name] of expr.matchAll(/\bedgebridge_[a-z0-9_]+/g)) {
        if (!served.has(name)) unknown.push(`${panel}: ${name}`);
      }
    }
    assert.deepEqual(unknown, []);
  });

  it('shows rates, backlog, breakers, drops, dead letters, reloads and latency', () => {
    const all = queried.map((q) => q.expr).join('\n');
    for (const name of [
      'edgebridge_messages_received_total',
      'edgebridge_sink_points_written_total',
      'edgebridge_sink_backlog_points',
      'edgebridge_sink_backlog_age_seconds',
      'edgebridge_sink_breaker_state',
      'edgebridge_sink_points_dropped_total',
      'edgebridge_spool_records_lost_total',
      'edgebridge_deadletter_published_total',
      'edgebridge_deadletter_dropped_total',
      'edgebridge_config_reloads_total',
      'edgebridge_sink_write_seconds_bucket',
    ])
      assert.ok(all.includes(name), name);
  });

  it('is importable: unique panel ids, every query on the datasource variable, an instance selector', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(dashboard.uid, 'edgebridge');
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['datasource', 'instance'],
    );
    const raw = readFileSync(DASHBOARD, 'utf8');
    assert.doesNotMatch(raw, /"uid": "(?!\$\{datasource\}|edgebridge")/, 'no hard-coded datasource uid');
    for (const { panel, expr } of queried) assert.match(expr, /instance=~"\$instance"/, panel);
  });
});
