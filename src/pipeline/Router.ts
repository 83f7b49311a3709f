import type { Route } from '../route/Route.ts';
import type { Decoder } from './Decoder.ts';
import { JsonDecoder } from './JsonDecoder.ts';
import { LineDecoder } from './LineDecoder.ts';
import { NumberDecoder } from './NumberDecoder.ts';
import type { MessageProperties } from '../topic/MessageProperty.ts';
import type { TopicPattern } from '../topic/TopicPattern.ts';
import { DEFAULT_LIMITS, overBytes, type PointLimits } from './PointLimits.ts';
import { PointStamp } from './PointStamp.ts';
import { RouteProperties } from './RouteProperties.ts';
import type { RouteResult } from './RouteResult.ts';
import { SparkplugDecoder } from './sparkplug/SparkplugDecoder.ts';
import { SparkplugHost } from './sparkplug/SparkplugHost.ts';
import { SparkplugStats } from './sparkplug/SparkplugStats.ts';
import { DeadbandStats } from './deadband/DeadbandStats.ts';
import { RouteDeadband, type SuppressListener } from './deadband/RouteDeadband.ts';

export interface RouterOptions {
  /** Compiled and checked by the loader (route/parseRoutes.ts): the router validates no route again. */
  readonly routes: readonly Route[];
  /**
   * Bit i of an entry's sink mask addresses sinkNames[i]. undefined: a slot whose sink was removed by a reload
   * (its bit is never set; slots are not reused while the process runs, see Gateway.reload).
   */
  readonly sinkNames: readonly (string | undefined)[];
  readonly gatewayId: string;
  /** Add tag `gateway=<gatewayId>` to every point (overriding a payload's or route's own `gateway` tag). */
  readonly gatewayTag: boolean;
  readonly maxPayloadBytes: number;
  /** Per-point limits (fields, names, strings, topic); defaults: DEFAULT_LIMITS. */
  readonly limits?: PointLimits;
  /** The Sparkplug host state shared by every `sparkplug` route; default: one in memory, no Rebirth requests. */
  readonly sparkplug?: SparkplugHost;
  /** Report-by-exception counters of the routes with a deadband; the gateway passes one that outlives reloads. */
  readonly deadbandStats?: DeadbandStats;
  /** Told of each value a deadband holds back (the dry run); absent: no such work. */
  readonly onSuppress?: SuppressListener;
}

/** A route with its decoder and sink mask. */
interface RouterRoute {
  readonly pattern: TopicPattern;
  readonly decoder: Decoder;
  readonly sinks: number;
  /** Report by exception; undefined for a route without `deadband` (the hot path then checks one property). */
  readonly deadband: RouteDeadband | undefined;
  /** undefined for a route that reads no MQTT 5 property (then a message's properties are never looked at). */
  readonly properties: RouteProperties | undefined;
}

// Shared immutable result: an unrouted message allocates nothing.
const UNROUTED: RouteResult = Object.freeze({ kind: 'unrouted' });

/** Routes each message to the first route whose pattern matches its topic, and decodes it into an Entry. */
export class Router {
  readonly #routes: readonly RouterRoute[];
  readonly #maxPayloadBytes: number;
  readonly #maxTopicBytes: number;

  /** Throws RangeError on options the loader cannot have produced (more than 31 or duplicate sinks, a route naming no sink). */
  constructor(options: RouterOptions) {
    const { sinkNames } = options;
    // Bit operations are 32-bit signed: bit 31 would make the mask negative.
    if (sinkNames.length > 31) throw new RangeError(`at most 31 sinks are supported, got ${sinkNames.length}`);
    const named = sinkNames.filter((n) => n !== undefined);
    if (new Set(named).size !== named.length) throw new RangeError(`sink names must be unique: ${named.join(', ')}`);
    let allSinks = 0;
    for (let i = 0; i < sinkNames.length; i++) if (sinkNames[i] !== undefined) allSinks |= 1 << i;
    const gateway = options.gatewayTag ? options.gatewayId : undefined;
    const limits = options.limits ?? DEFAULT_LIMITS;
    let sparkplug: { host: SparkplugHost; stats: SparkplugStats } | undefined;
    options.deadbandStats?.detach();
    this.#routes = options.routes.map((route, i): RouterRoute => {
      const stamp = new PointStamp(route, gateway);
      let sinks = route.sinks.length === 0 ? allSinks : 0;
      for (const name of route.sinks) {
        const bit = sinkNames.indexOf(name);
        if (bit === -1) {
          throw new RangeError(`route ${i} "${route.topic}": unknown sink "${name}"; configured sinks: ${named.join(', ') || '(none)'}`);
        }
        sinks |= 1 << bit;
      }
      const decoder =
        route.format === 'json'
          ? new JsonDecoder(route, stamp, limits)
          : route.format === 'number'
            ? new NumberDecoder(stamp)
            : route.format === 'sparkplug'
              ? sparkplugDecoder(stamp, (sparkplug ??= sparkplugOf(options)), limits)
              : new LineDecoder(route, stamp, limits);
      const properties = RouteProperties.needed(route) ? new RouteProperties(route, limits.maxNameBytes) : undefined;
      const deadband = route.deadband && routeDeadband(route, i, sinks, sinkNames, options);
      return { pattern: route.pattern, decoder, sinks, deadband, properties };
    });
    this.#maxPayloadBytes = options.maxPayloadBytes;
    this.#maxTopicBytes = limits.maxTopicBytes;
  }

  /** MQTT subscription filters of the routes, in route order (duplicates removed). */
  get filters(): string[] {
    return [...new Set(this.#routes.map((r) => r.pattern.mqttFilter))];
  }

  /** Whether some route reads MQTT 5 properties (the config check refuses such routes on MQTT 3.1.1). */
  get usesProperties(): boolean {
    return this.#routes.some((r) => r.properties !== undefined);
  }

  /**
   * `receivedAt`: arrival time, epoch ms; also the timestamp of points whose payload has none. `properties`: the
   * message's MQTT 5 properties (mqtt.js's `packet.properties`), read only by routes that use them.
   */
  route(topic: string, payload: Buffer, receivedAt: number, properties?: MessageProperties): RouteResult {
    // Size first: nothing of an oversized payload is looked at.
    if (payload.length > this.#maxPayloadBytes) {
      return { kind: 'rejected', reason: 'too_large', detail: `${payload.length} bytes > ${this.#maxPayloadBytes}` };
    }
    // Topic levels become tag values and measurements: a device must not be able to make them arbitrarily long.
    if (overBytes(topic, this.#maxTopicBytes)) {
      return { kind: 'rejected', reason: 'too_long', detail: `topic is longer than ${this.#maxTopicBytes} bytes` };
    }
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      const captures = route.pattern.match(topic);
      if (captures === undefined) continue;
      // First match wins, also when it rejects: later routes are not a fallback.
      let arrivalUs = Math.round(receivedAt * 1000);
      let all = captures;
      const props = route.properties;
      if (props !== undefined) {
        const refused = props.apply(captures, properties, arrivalUs);
        if (refused !== undefined) return refused;
        all = props.captures;
        arrivalUs = props.us;
      }
      const out = route.decoder.decode(payload, all, arrivalUs, topic);
      if (out.kind === 'rejected') return out;
      if (out.points === 0) return UNROUTED; // no data by design (a Sparkplug command or STATE)
      if (route.deadband !== undefined) return route.deadband.apply(out.lines, out.points, receivedAt);
      return { kind: 'ok', entry: { lines: out.lines, points: out.points, sinks: route.sinks, receivedAt } };
    }
    return UNROUTED;
  }
}

/** The route's deadband over the sinks it names (default: all the route's sinks). */
function routeDeadband(
  route: Route,
  i: number,
  sinks: number,
  sinkNames: readonly (string | undefined)[],
  options: RouterOptions,
): RouteDeadband {
  const config = route.deadband!;
  let thinnedSinks = 0;
  const thinnedNames: string[] = [];
  for (let bit = 0; bit < sinkNames.length; bit++) {
    const name = sinkNames[bit];
    if (name === undefined || (sinks & (1 << bit)) === 0) continue;
    if (config.sinks !== undefined && !config.sinks.includes(name)) continue;
    thinnedSinks |= 1 << bit;
    thinnedNames.push(name);
  }
  for (const name of config.sinks ?? []) {
    if (!thinnedNames.includes(name))
      throw new RangeError(`route ${i} "${route.topic}": deadband sink "${name}" is not one of the route's sinks`);
  }
  const counters = (options.deadbandStats ?? new DeadbandStats()).counters(route.topic);
  return new RouteDeadband({
    config,
    routeSinks: sinks,
    thinnedSinks,
    thinnedNames,
    counters,
    ...(options.onSuppress ? { onSuppress: options.onSuppress } : {}),
  });
}

function sparkplugDecoder(stamp: PointStamp, sp: { host: SparkplugHost; stats: SparkplugStats }, limits: PointLimits): Decoder {
  return new SparkplugDecoder(stamp, sp.host, sp.stats, limits);
}

function sparkplugOf(options: RouterOptions): { host: SparkplugHost; stats: SparkplugStats } {
  if (options.sparkplug !== undefined) return { host: options.sparkplug, stats: options.sparkplug.stats };
  const stats = new SparkplugStats();
  const host = new SparkplugHost({ stats, rebirth: false, rebirthMinIntervalMs: 60_000, maxNodes: 10_000, propertyTags: ['engUnit'] });
  return { host, stats };
}
