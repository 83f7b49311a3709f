import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeadbandStats } from '../pipeline/deadband/DeadbandStats.ts';

/** Report by exception (routes with `deadband`); copied from the routes' counters when scraped. */
export function registerDeadbandMetrics(registers: Registry[], stats: DeadbandStats): void {
  new Counter({
    name: 'edgebridge_points_suppressed_total',
    help: 'Field values a route’s deadband held back from a sink (report by exception; the route’s other sinks got them), by route (its topic pattern) and sink',
    labelNames: ['route', 'sink'],
    registers,
    collect() {
      this.reset();
      for (const c of stats.routes.values()) for (const [sink, n] of c.suppressed) this.labels(c.route, sink).inc(n);
    },
  });
  new Counter({
    name: 'edgebridge_deadband_evictions_total',
    help: 'Series × field memories a route’s deadband forgot because deadband.capacity was reached (the next value is written), by route',
    labelNames: ['route'],
    registers,
    collect() {
      this.reset();
      for (const c of stats.routes.values()) this.labels(c.route).inc(c.evictions);
    },
  });
  new Gauge({
    name: 'edgebridge_deadband_series',
    help: 'Series × field memories a route’s deadband holds (at most deadband.capacity), by route',
    labelNames: ['route'],
    registers,
    collect() {
      this.reset();
      for (const c of stats.routes.values()) this.labels(c.route).set(c.size());
    },
  });
}
