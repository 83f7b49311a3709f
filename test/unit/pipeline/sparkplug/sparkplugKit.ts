import { parseRoutes } from '../../../../src/route/parseRoutes.ts';
import { Router } from '../../../../src/pipeline/Router.ts';
import type { RouteResult } from '../../../../src/pipeline/RouteResult.ts';
import { SparkplugHost, type SparkplugHostOptions } from '../../../../src/pipeline/sparkplug/SparkplugHost.ts';
import { SparkplugStats } from '../../../../src/pipeline/sparkplug/SparkplugStats.ts';
import { encodePayload } from '../../../../src/sparkplug/SparkplugCodec.ts';

export const RECEIVED = 1736942400123; // ms: 2025-01-15T12:00:00.123Z
export const RECEIVED_US = RECEIVED * 1000;

/** The preset route (config/routes/sparkplug.json). */
export const SPARKPLUG_ROUTE = {
  topic: 'spBv1.0/#',
  format: 'sparkplug',
  measurement: 'sparkplug',
  tags: {},
  fields: [],
  flatten: false,
  timeField: '',
  timeUnit: 'ms',
  sinks: [],
};

export interface Kit {
  readonly router: Router;
  readonly host: SparkplugHost;
  readonly stats: SparkplugStats;
  /** Commands the host published: [topic, payload]. */
  readonly published: [string, Buffer][];
  send(topic: string, payload: Record<string, unknown> | Buffer, receivedAt?: number): RouteResult;
  /** The lines of an accepted message (fails the test otherwise). */
  lines(topic: string, payload: Record<string, unknown>, receivedAt?: number): string[];
  clock: { now: number };
}

/** A Router with the preset route and its own host (gateway id `edge-01`). */
export function sparkplugKit(options: Partial<SparkplugHostOptions> = {}): Kit {
  const stats = new SparkplugStats();
  const published: [string, Buffer][] = [];
  const clock = { now: RECEIVED };
  const host = new SparkplugHost({
    stats,
    rebirth: false,
    rebirthMinIntervalMs: 60_000,
    maxNodes: 100,
    propertyTags: ['engUnit'],
    publish: (topic, payload) => {
      published.push([topic, payload]);
      return true;
    },
    now: () => clock.now,
    ...options,
  });
  const router = new Router({
    routes: parseRoutes([SPARKPLUG_ROUTE]),
    sinkNames: ['influx', 'redis'],
    gatewayId: 'edge-01',
    gatewayTag: true,
    maxPayloadBytes: 1 << 20,
    sparkplug: host,
  });
  const send = (topic: string, payload: Record<string, unknown> | Buffer, receivedAt = RECEIVED): RouteResult =>
    router.route(topic, Buffer.isBuffer(payload) ? payload : encodePayload(payload), receivedAt);
  return {
    router,
    host,
    stats,
    published,
    clock,
    send,
    lines(topic, payload, receivedAt) {
      const r = send(topic, payload, receivedAt);
      if (r.kind !== 'ok') throw new Error(`expected ok for ${topic}, got ${JSON.stringify(r)}`);
      return r.entry.lines.split('\n');
    },
  };
}

export const TAGS = 'device=plant/edge1,gateway=edge-01,group=plant,node=edge1';
