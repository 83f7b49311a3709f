/**
 * The effective configuration, after the loader has parsed and resolved it. Derived from the schema (schema.ts):
 * each leaf's type is its format's, so a key added there appears here by itself. Only what the loader changes is
 * spelt out: the sinks as one list of tagged objects, TLS blocks with their files read, and the compiled routes.
 * Every part of the gateway receives the slice it needs; nothing reads convict directly.
 */
import type { PayloadFormat, Route, RouteConfig, TimeUnit } from '../route/Route.ts';
import type { ResolvedTls } from '../tls/resolveTls.ts';
import type { TlsConfig } from '../tls/TlsConfig.ts';
import type { HostPort, Qos, Subscription } from './formats.ts';
import type { Schema } from './schema.ts';
import type { ConfigOf } from './schemaTree.ts';

export type { HostPort, PayloadFormat, Qos, ResolvedTls, Route, RouteConfig, Subscription, TimeUnit, TlsConfig };

/** The values of the schema, as parsed (before the loader resolves sinks, TLS and derived defaults). */
export type ConfigValues = ConfigOf<Schema>;
type WithTls<T> = Omit<T, 'tls'> & { readonly tls: ResolvedTls };
type SinkValues<K extends 'influx' | 'redis'> = ConfigValues['sinks'][K];

export type LogLevel = ConfigValues['log']['level'];
/**
 * `clientId` filled in from gatewayId when empty, `{gatewayId}` substituted in the topics, `connections` resolved
 * (`auto` → a count).
 */
export type MqttConfig = WithTls<Omit<ConfigValues['mqtt'], 'connections'> & { readonly connections: number }>;
export type SpoolConfig = ConfigValues['spool'];
export type HttpConfig = ConfigValues['http'];
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

export interface Config extends Omit<ConfigValues, 'mqtt' | 'routes' | 'routesFile' | 'sinks'> {
  readonly mqtt: MqttConfig;
  readonly routes: readonly Route[];
  readonly sinks: readonly SinkConfig[];
}
