import type { BatchConfig, Config, LogLevel, ResilienceConfig, SinkConfig, Subscription } from '../config/Config.ts';
import { renewedTlsFiles } from '../tls/renewedTlsFiles.ts';
import type { ResolvedTls } from '../tls/resolveTls.ts';

/**
 * What a reload would change, and whether the running gateway can take it. Only these keys change live; every
 * other changed key needs a restart, and one such key makes the whole reload refused (nothing is applied):
 *
 * - `routes` (and `routesFile`, which only says where they come from), `gatewayTag` and the per-point limits
 *   (`mqtt.maxPayloadBytes`, `maxFieldsPerPoint`, `maxNameBytes`, `maxStringBytes`, `maxTopicBytes`): a new
 *   router, swapped between two messages;
 * - `mqtt.subscriptions`: new filters subscribed, removed ones unsubscribed (after a log line);
 * - each sink's `batch.*` and `resilience.*`;
 * - `log.level`, `shutdown.timeoutMs`;
 * - sinks added or removed as a whole (by name); a kept sink's other keys (url, token, TLS paths, …) need a restart;
 * - the TLS material of the MQTT connection and of each kept sink: files renewed under the same paths (their
 *   contents, compared by digest) are taken by a new connection (`tlsRenewed`).
 */
export interface ConfigDiff {
  /** Changed keys that cannot change in a running gateway, in config order; non-empty = refuse the reload. */
  readonly restartKeys: readonly string[];
  /** Changed keys that are applied live (for the log line). */
  readonly liveKeys: readonly string[];
  /** The router must be rebuilt (routes, limits, gateway tag, or the set of sinks changed). */
  readonly router: boolean;
  readonly subscriptions: { readonly subscribe: readonly Subscription[]; readonly unsubscribe: readonly string[] };
  readonly logLevel: LogLevel | undefined;
  readonly shutdownTimeoutMs: number | undefined;
  readonly sinksAdded: readonly SinkConfig[];
  readonly sinksRemoved: readonly string[];
  readonly sinksTuned: readonly { readonly name: string; readonly batch: BatchConfig; readonly resilience: ResilienceConfig }[];
  /** TLS blocks with the same paths whose files were renewed (the new material); the MQTT one, and each kept sink's. */
  readonly tlsRenewed: {
    readonly mqtt: ResolvedTls | undefined;
    readonly sinks: readonly { readonly name: string; readonly tls: ResolvedTls }[];
  };
}

/** Top-level and `mqtt.` keys that change live; the sinks are compared apart (see below). */
const LIVE = new Set([
  'routes',
  'routesFile',
  'gatewayTag',
  'log.level',
  'shutdown.timeoutMs',
  'mqtt.subscriptions',
  'mqtt.maxPayloadBytes',
  'mqtt.maxFieldsPerPoint',
  'mqtt.maxNameBytes',
  'mqtt.maxStringBytes',
  'mqtt.maxTopicBytes',
]);
/** Keys whose change means a new router. */
const ROUTER = new Set([
  'routes',
  'gatewayTag',
  'mqtt.maxPayloadBytes',
  'mqtt.maxFieldsPerPoint',
  'mqtt.maxNameBytes',
  'mqtt.maxStringBytes',
  'mqtt.maxTopicBytes',
]);
/** A kept sink's keys that change live (each sink's worker takes them). */
const SINK_LIVE = new Set(['batch', 'resilience']);
const NOTHING_WHOLE: ReadonlySet<string> = new Set();

/** The config key a sink's settings are under: `sinks.influx`, `sinks.redis`, `sinks.extra[name=cloud]`. */
export function sinkKey(sink: SinkConfig): string {
  return (sink.name === 'influx' && sink.type === 'influx') || (sink.name === 'redis' && sink.type === 'redis')
    ? `sinks.${sink.name}`
    : `sinks.extra[name=${sink.name}]`;
}

export function diffConfig(old: Config, next: Config): ConfigDiff {
  const restartKeys: string[] = [];
  const liveKeys: string[] = [];
  const { sinks: oldSinks, ...oldRest } = old;
  const { sinks: nextSinks, ...nextRest } = next;
  for (const key of changedKeys(oldRest, nextRest, '', LIVE)) (LIVE.has(key) ? liveKeys : restartKeys).push(key);

  const sinksAdded = nextSinks.filter((s) => !oldSinks.some((o) => o.name === s.name));
  const sinksRemoved = oldSinks.filter((o) => !nextSinks.some((s) => s.name === o.name)).map((o) => o.name);
  const sinksTuned: ConfigDiff['sinksTuned'][number][] = [];
  const tlsSinks: ConfigDiff['tlsRenewed']['sinks'][number][] = [];
  const mqttTls = renewed(old.mqtt.tls, next.mqtt.tls, 'mqtt.tls', liveKeys) ? next.mqtt.tls : undefined;
  for (const s of nextSinks) {
    const o = oldSinks.find((x) => x.name === s.name);
    if (o === undefined) {
      liveKeys.push(`${sinkKey(s)} (added)`);
      continue;
    }
    const at = sinkKey(s);
    let tuned = false;
    for (const key of changedKeys(o, s, at, NOTHING_WHOLE)) {
      const live = SINK_LIVE.has(key.slice(at.length + 1).split('.')[0]!);
      (live ? liveKeys : restartKeys).push(key);
      tuned ||= live;
    }
    if (tuned) sinksTuned.push({ name: s.name, batch: s.batch, resilience: s.resilience });
    if (renewed(o.tls, s.tls, `${at}.tls`, liveKeys)) tlsSinks.push({ name: s.name, tls: s.tls });
  }
  for (const name of sinksRemoved) liveKeys.push(`${sinkKey(oldSinks.find((o) => o.name === name)!)} (removed)`);

  const sinkSetChanged = sinksAdded.length > 0 || sinksRemoved.length > 0;
  return {
    restartKeys,
    liveKeys,
    router: sinkSetChanged || liveKeys.some((k) => ROUTER.has(k)),
    subscriptions: subscriptionChanges(old.mqtt.subscriptions, next.mqtt.subscriptions),
    logLevel: old.log.level === next.log.level ? undefined : next.log.level,
    shutdownTimeoutMs: old.shutdown.timeoutMs === next.shutdown.timeoutMs ? undefined : next.shutdown.timeoutMs,
    sinksAdded,
    sinksRemoved,
    sinksTuned,
    tlsRenewed: { mqtt: mqttTls, sinks: tlsSinks },
  };
}

/**
 * Files renewed under the same paths: a live change, named with the files (`mqtt.tls (renewed: certFile, keyFile)`).
 * A changed path is a changed key (changedKeys), which needs a restart.
 */
function renewed(old: ResolvedTls, next: ResolvedTls, at: string, liveKeys: string[]): boolean {
  const samePaths = old.caFile === next.caFile && old.certFile === next.certFile && old.keyFile === next.keyFile;
  const files = samePaths ? renewedTlsFiles(old, next) : [];
  if (files.length > 0) liveKeys.push(`${at} (renewed: ${files.join(', ')})`);
  return files.length > 0;
}

/** A new filter, or a known one with another QoS (subscribing again replaces it at the broker); filters gone. */
function subscriptionChanges(old: readonly Subscription[], next: readonly Subscription[]): ConfigDiff['subscriptions'] {
  return {
    subscribe: next.filter((s) => !old.some((o) => o.topic === s.topic && o.qos === s.qos)),
    unsubscribe: old.filter((o) => !next.some((s) => s.topic === o.topic)).map((o) => o.topic),
  };
}

/**
 * Dotted keys whose values differ, walking plain objects (enumerable keys: a TLS block's file contents are compared
 * apart, by `renewed`) and comparing anything else — arrays included — as JSON. A key in `whole` is
 * compared as one value.
 */
function changedKeys(a: unknown, b: unknown, at: string, whole: ReadonlySet<string>): string[] {
  if (!whole.has(at) && isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => changedKeys(a[k], b[k], at === '' ? k : `${at}.${k}`, whole));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
