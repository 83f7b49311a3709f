/**
 * The effective configuration, after the loader has parsed and resolved it. Derived from the schema (schema.ts):
 * each leaf's type is its format's, so a key added there appears here by itself. Only what the loader changes is
 * spelt out: the sinks as one list of tagged objects, TLS blocks with their files read, and the routes.
 * Every part of the gateway receives the slice it needs; nothing reads convict directly.
 */
import type { ResolvedTls } from '../tls/resolveTls.ts';
import type { Template } from '../topic/Template.ts';
import type { TopicPattern } from '../topic/TopicPattern.ts';
import type { TlsConfig } from '../tls/TlsConfig.ts';
import type { Qos, Subscription } from './formats.ts';
import type { HostPort } from './redisFormats.ts';
import type { Schema } from './schema.ts';
import type { ConfigOf } from './schemaTree.ts';

export type { HostPort, Qos, ResolvedTls, Subscription, TlsConfig };

/** The values of the schema, as parsed (before the loader resolves sinks, TLS and derived defaults). */
export type ConfigValues = ConfigOf<Schema>;
type Values<K extends keyof ConfigValues> = ConfigValues[K];
type WithTls<T> = Omit<T, 'tls'> & { readonly tls: ResolvedTls };
type SinkValues<K extends 'influx' | 'redis'> = Values<'sinks'>[K];

export type LogLevel = Values<'log'>['level'];
/** `clientId` filled in from gatewayId when empty, `{gatewayId}` substituted in the topics. */
export type MqttConfig = WithTls<Values<'mqtt'>>;
export type SpoolConfig = Values<'spool'>;
export type HttpConfig = Values<'http'>;
export type OverflowPolicy = SpoolConfig['overflow'];
export type SpoolType = SpoolConfig['type'];
/** When a QoS 1/2 message is acknowledged: once written to the spool file, or once it is on disk. */
export type AckMode = SpoolConfig['ack'];
export type BatchConfig = SinkValues<'influx'>['batch'];
export type ResilienceConfig = SinkValues<'influx'>['resilience'];

/** `name`: unique; `influx` and `redis` are the defaults addressed by the EDGEBRIDGE_* env variables. */
type Sink<K extends 'influx' | 'redis'> = WithTls<Omit<SinkValues<K>, 'enabled'>> & { readonly name: string; readonly type: K };
export type InfluxSinkConfig = Sink<'influx'>;
export type RedisSinkConfig = Sink<'redis'>;
export type RedisMode = RedisSinkConfig['mode'];
export type SinkConfig = InfluxSinkConfig | RedisSinkConfig;

export type PayloadFormat = 'json' | 'number' | 'line' | 'sparkplug';
export type TimeUnit = 'auto' | 's' | 'ms' | 'us' | 'ns' | 'iso';

/** One element of `routes`, every key filled (the route format's own type: parseRoutes.ts). */
export interface RouteConfig {
  /**
   * Topic pattern. Levels are literal, `+` (any one level), `{name}` (one level, captured),
   * or as the last level `#` / `{name#}` (the rest, captured joined with '/').
   */
  readonly topic: string;
  readonly format: PayloadFormat;
  /** Template: `{name}` is replaced by the captured segment. Ignored for format `line`. */
  readonly measurement: string;
  /** Tag templates; static strings are fine. The gateway tag is added by the router when `gatewayTag` is set. */
  readonly tags: Readonly<Record<string, string>>;
  /** json: dot paths of the fields to keep; empty = every top-level number/boolean/string. */
  readonly fields: readonly string[];
  /** json: flatten nested objects into `a_b` fields instead of ignoring them. */
  readonly flatten: boolean;
  /** json: dot path of the timestamp field; '' = arrival time. */
  readonly timeField: string;
  readonly timeUnit: TimeUnit;
  /** Names of the sinks this route writes to; empty = all. */
  readonly sinks: readonly string[];
}

/**
 * A route as the loader returns it: the configured keys, plus its topic pattern and templates compiled once
 * (parseRoutes.ts). The compiled parts are non-enumerable, so print-config, logs and deep-equal see the keys only.
 */
export interface Route extends RouteConfig {
  readonly pattern: TopicPattern;
  /** undefined for format `line`: the payload brings its measurement. */
  readonly measurementTemplate: Template | undefined;
  /** One per key of `tags`, in the same order. */
  readonly tagTemplates: readonly Template[];
}

export interface Config extends Omit<ConfigValues, 'mqtt' | 'routes' | 'routesFile' | 'sinks'> {
  readonly mqtt: MqttConfig;
  readonly routes: readonly Route[];
  readonly sinks: readonly SinkConfig[];
}
