/**
 * The effective configuration, after convict has validated and the loader has normalised it.
 * Every part of the gateway receives the slice it needs; nothing reads convict directly.
 */

import type { ResolvedTls } from '../tls/resolveTls.ts';
import type { TlsConfig } from '../tls/TlsConfig.ts';

export type { ResolvedTls, TlsConfig };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type Qos = 0 | 1 | 2;

export interface Subscription {
  readonly topic: string;
  readonly qos: Qos;
}

export interface MqttConfig {
  /** mqtt://, mqtts://, ws://, wss:// */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Stable client id; '' in the file means "derive from gatewayId" and the loader fills it in. */
  readonly clientId: string;
  /** false (default): persistent session, the broker keeps QoS 1/2 messages while we are away. */
  readonly clean: boolean;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  readonly protocolVersion: 4 | 5;
  /** Seconds. */
  readonly keepalive: number;
  readonly connectTimeoutMs: number;
  /** Session expiry for MQTT 5 persistent sessions, seconds. */
  readonly sessionExpirySec: number;
  /** MQTT 5 Receive Maximum: QoS 1/2 messages the broker may send before we acknowledge. */
  readonly receiveMaximum: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly subscriptions: readonly Subscription[];
  /** Retained birth/last-will topic; '' disables. `{gatewayId}` is substituted. */
  readonly statusTopic: string;
  /** Rejected messages are re-published here ('' = off); `{gatewayId}` already substituted. */
  readonly deadLetterTopic: string;
  /** Messages larger than this are rejected (reason `too_large`). */
  readonly maxPayloadBytes: number;
  /** Used with mqtts:// and wss:// only (the loader refuses it with a plain URL); files read at load. */
  readonly tls: ResolvedTls;
}

export type PayloadFormat = 'json' | 'number' | 'line';
export type TimeUnit = 'auto' | 's' | 'ms' | 'us' | 'ns' | 'iso';

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

export interface BatchConfig {
  readonly maxPoints: number;
  readonly maxBytes: number;
  readonly flushIntervalMs: number;
}

export interface ResilienceConfig {
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Consecutive failures that open the breaker. */
  readonly breakerThreshold: number;
  readonly breakerHalfOpenAfterMs: number;
}

interface SinkCommon {
  /** Unique; `influx` and `redis` are the defaults addressed by the EDGEBRIDGE_* env variables. */
  readonly name: string;
  readonly batch: BatchConfig;
  readonly resilience: ResilienceConfig;
}

export interface InfluxSinkConfig extends SinkCommon {
  readonly type: 'influx';
  readonly url: string;
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
  readonly gzip: boolean;
  /** Used with https:// only (the loader refuses it with http://). */
  readonly tls: ResolvedTls;
}

export interface RedisSinkConfig extends SinkCommon {
  readonly type: 'redis';
  /** redis:// or rediss://, may carry user:password. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly keyPrefix: string;
  /** Tag whose value names the device for the latest-value hashes. */
  readonly deviceTag: string;
  readonly latest: boolean;
  readonly streams: boolean;
  /** Approximate MAXLEN of each stream. */
  readonly streamMaxLen: number;
  readonly mode: RedisMode;
  /** Mode sentinel: where the Sentinels listen. */
  readonly sentinels: readonly HostPort[];
  /** Mode sentinel: the master's name. */
  readonly sentinelName: string;
  /** Mode sentinel: credentials for the Sentinels themselves ('' = none); the master's are username/password. */
  readonly sentinelUsername: string;
  readonly sentinelPassword: string;
  /** Mode cluster: seed nodes; empty = the url's host:port. */
  readonly clusterNodes: readonly HostPort[];
  /** Used with rediss:// only (the loader refuses it with redis://); in every mode. */
  readonly tls: ResolvedTls;
  /** Replicas that must confirm each batch (`WAIT`) before it counts as written; 0 = off. */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type SinkConfig = InfluxSinkConfig | RedisSinkConfig;

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  /** Bearer token for /status and /metrics; '' = open. */
  readonly token: string;
}

export type OverflowPolicy = 'dropOldest' | 'block';
export type SpoolType = 'disk' | 'memory';
/** When a QoS 1/2 message is acknowledged: once written to the spool file, or once it is on disk. */
export type AckMode = 'write' | 'fsync';

export interface SpoolConfig {
  readonly type: SpoolType;
  readonly dir: string;
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  readonly ack: AckMode;
  /** ack=write: background fdatasync period. */
  readonly fsyncIntervalMs: number;
  readonly segmentBytes: number;
  readonly checkpointIntervalMs: number;
}

export interface Config {
  readonly gatewayId: string;
  /** Add tag `gateway=<gatewayId>` to every point. */
  readonly gatewayTag: boolean;
  readonly log: { readonly level: LogLevel; readonly collapseIntervalMs: number };
  readonly mqtt: MqttConfig;
  readonly routes: readonly RouteConfig[];
  readonly sinks: readonly SinkConfig[];
  readonly spool: SpoolConfig;
  readonly http: HttpConfig;
  readonly shutdown: { readonly timeoutMs: number };
}
