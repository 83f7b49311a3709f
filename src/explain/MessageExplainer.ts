import type { Config, RedisSinkConfig } from '../config/Config.ts';
import { Router } from '../pipeline/Router.ts';
import { SparkplugHost } from '../pipeline/sparkplug/SparkplugHost.ts';
import { SparkplugStats } from '../pipeline/sparkplug/SparkplugStats.ts';
import { limitsOf } from '../pipeline/PointLimits.ts';
import type { RejectReason } from '../pipeline/RouteResult.ts';
import { splitLines } from '../lineprotocol/splitLines.ts';
import type { MessageProperties } from '../topic/MessageProperty.ts';
import { TopicPattern } from '../topic/TopicPattern.ts';
import { batchOf } from '../spool/Batch.ts';
import { latestOf, RedisBatchBuilder, streamsOf, type BuiltBatch } from '../sinks/redis/RedisBatchBuilder.ts';

/** MQTT 5 properties of a message (the dry run, route tests and the route tester accept them). */
export type { MessageProperties };

/** The route that took the message: its 1-based number in `routes`, its pattern and format. */
export interface RouteRef {
  readonly number: number;
  readonly topic: string;
  readonly format: string;
}

/** What one sink would receive: line protocol for InfluxDB sinks, the batch script's writes for Redis sinks. */
export type SinkWrites =
  | { readonly sink: string; readonly type: 'influx'; readonly lines: readonly string[] }
  | { readonly sink: string; readonly type: 'redis'; readonly commands: readonly string[] };

/** The verdict on one message, as the gateway would reach it on arrival; `subscribed`: a subscription delivers it. */
export type Explanation =
  | {
      readonly kind: 'ok';
      readonly subscribed: boolean;
      readonly route: RouteRef;
      readonly points: number;
      /** Line protocol of the points, one per point. */
      readonly lines: readonly string[];
      readonly writes: readonly SinkWrites[];
      /** Values the route's deadband held back, `series field=value (reason)`, from the sinks in `thinned`. */
      readonly suppressed: readonly string[];
      /** The sinks the route's deadband thins (empty: the route has none). */
      readonly thinned: readonly string[];
    }
  | {
      readonly kind: 'rejected';
      readonly subscribed: boolean;
      readonly reason: RejectReason;
      readonly detail: string;
      /** Undefined when routing itself threw (internal_error). */
      readonly route: RouteRef | undefined;
    }
  | { readonly kind: 'unrouted'; readonly subscribed: boolean; readonly why: 'wildcard' | 'no route' };

/**
 * Runs one message through the configured routes and sink layouts without writing anything: the code behind
 * `--dry-run`, `edgebridge test` and the status page's route tester, so all three show what the gateway does.
 */
export class MessageExplainer {
  readonly #config: Config;
  readonly #router: Router;
  readonly #subscriptions: readonly TopicPattern[];
  readonly #redis: ReadonlyMap<string, { readonly config: RedisSinkConfig; readonly builder: RedisBatchBuilder }>;

  /** The values held back while explaining the current message (the router's deadband tells). */
  readonly #held: string[] = [];

  /**
   * One router for the explainer's life: a deadband remembers what earlier messages wrote, so a sequence of
   * messages (a dry-run file) shows report by exception at work.
   */
  constructor(config: Config) {
    this.#config = config;
    this.#router = new Router({
      onSuppress: (series, field, value, reason) => this.#held.push(`${series} ${field}=${value} (${reason})`),
      routes: config.routes,
      sinkNames: config.sinks.map((s) => s.name),
      gatewayId: config.gatewayId,
      gatewayTag: config.gatewayTag,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      limits: limitsOf(config.mqtt),
      // Its own Sparkplug state, kept from message to message (a DBIRTH explains the DDATA after it); never
      // publishes a Rebirth request, never reads or writes the gateway's alias maps.
      sparkplug: new SparkplugHost({
        stats: new SparkplugStats(),
        rebirth: false,
        rebirthMinIntervalMs: config.sparkplug.rebirthMinIntervalMs,
        maxNodes: config.sparkplug.maxNodes,
        propertyTags: config.sparkplug.propertyTags,
      }),
    });
    this.#subscriptions = config.mqtt.subscriptions.map((s) => new TopicPattern(s.topic));
    this.#redis = new Map(
      config.sinks
        .filter((s): s is RedisSinkConfig => s.type === 'redis')
        .map((s) => [s.name, { config: s, builder: new RedisBatchBuilder(s) }] as const),
    );
  }

  /**
   * `receivedAt`: arrival time, epoch ms (the time of points whose payload has none). `properties`: the message's
   * MQTT 5 properties, for routes that read them.
   */
  explain(topic: string, payload: Buffer, receivedAt: number, properties?: MessageProperties): Explanation {
    const config = this.#config;
    // A published topic never holds a wildcard (MQTT refuses it), so no route can be shown matching one.
    if (topic.includes('+') || topic.includes('#')) return { kind: 'unrouted', subscribed: true, why: 'wildcard' };
    const subscribed = this.#subscriptions.some((s) => s.match(topic) !== undefined);
    let result: ReturnType<Router['route']>;
    this.#held.length = 0;
    try {
      result = this.#router.route(topic, payload, receivedAt, properties);
    } catch (error) {
      // The router is not meant to throw; if it does, say so for this message, without a stack trace.
      return { kind: 'rejected', subscribed, reason: 'internal_error', detail: (error as Error).message, route: undefined };
    }
    if (result.kind === 'unrouted') return { kind: 'unrouted', subscribed, why: 'no route' };
    const index = config.routes.findIndex((r) => r.pattern.match(topic) !== undefined);
    const r = config.routes[index]!;
    const route = { number: index + 1, topic: r.topic, format: r.format };
    if (result.kind === 'rejected') return { kind: 'rejected', subscribed, reason: result.reason, detail: result.detail, route };
    const suppressed = [...this.#held];
    const thinned = r.deadband === undefined ? [] : (r.deadband.sinks ?? (r.sinks.length > 0 ? r.sinks : config.sinks.map((s) => s.name)));
    if (result.kind === 'suppressed') return { kind: 'ok', subscribed, route, points: 0, lines: [], writes: [], suppressed, thinned };
    const { entry: first, also } = result;
    const lines = splitLines(first.lines);
    const writes: SinkWrites[] = [];
    for (let i = 0; i < config.sinks.length; i++) {
      const sink = config.sinks[i]!;
      const entry = (first.sinks & (1 << i)) !== 0 ? first : also !== undefined && (also.sinks & (1 << i)) !== 0 ? also : undefined;
      if (entry === undefined) continue;
      if (sink.type === 'influx') {
        writes.push({ sink: sink.name, type: 'influx', lines: entry === first ? lines : splitLines(entry.lines) });
        continue;
      }
      const batch = batchOf([entry.lines], {
        positions: [0],
        origin: 'dry-run',
        points: entry.points,
        firstReceivedAt: entry.receivedAt,
        lastReceivedAt: entry.receivedAt,
        end: 0,
      });
      const redis = this.#redis.get(sink.name)!;
      writes.push({ sink: sink.name, type: 'redis', commands: redisCommands(redis.builder.build(batch), redis.config.streamMaxLen) });
    }
    return { kind: 'ok', subscribed, route, points: first.points, lines, writes, suppressed, thinned };
  }
}

/**
 * The writes the batch script makes for one built batch, as redis-cli commands. Read back from the builder's
 * ARGV (its latest values and stream entries, see `batchScript.ts`): what a dry run shows is what is sent.
 */
export function redisCommands(built: Pick<BuiltBatch, 'argv'>, streamMaxLen: number): string[] {
  const out: string[] = [];
  for (const [valuesKey, timesKey, flat] of latestOf(built)) {
    const values: string[] = [];
    const times: string[] = [];
    for (let f = 0; f + 2 < flat.length; f += 3) {
      values.push(quote(flat[f]!), quote(flat[f + 1]!));
      times.push(quote(flat[f]!), flat[f + 2]!);
    }
    out.push(`HSET ${quote(valuesKey)} ${values.join(' ')}   (each field only if not older than ${timesKey})`);
    out.push(`HSET ${quote(timesKey)} ${times.join(' ')}`);
  }
  for (const [streamKey, , pairs] of streamsOf(built)) {
    out.push(`XADD ${quote(streamKey)} MAXLEN ~ ${streamMaxLen} * ${pairs.map(quote).join(' ')}`);
  }
  return out;
}

/** As redis-cli reads it: bare when safe, otherwise double-quoted with escapes. */
function quote(value: string): string {
  return value !== '' && !/[\s"'\\]/.test(value) && !/[^\x21-\x7e]/.test(value) ? value : JSON.stringify(value);
}
