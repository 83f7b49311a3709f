/**
 * Schemas of one InfluxDB / Redis sink. Used twice: under `sinks.influx` / `sinks.redis` (where
 * schema.ts adds env vars and CLI flags) and to validate each element of `sinks.extra`.
 */
import { F } from './formats.ts';
import { REDIS_F } from './redisFormats.ts';
import type { SchemaTree } from './schemaTree.ts';
import { tlsSchema } from './tlsSchema.ts';

function batchSchema() {
  return {
    maxPoints: { doc: 'Flush when this many points are buffered.', default: 5000, format: F.positiveInt },
    maxBytes: { doc: 'Flush when the buffered payload reaches this many bytes.', default: 1048576, format: F.positiveInt },
    flushIntervalMs: { doc: 'Flush at least this often (ms) while points are buffered.', default: 1000, format: F.positiveInt },
  } satisfies SchemaTree;
}

function resilienceSchema() {
  return {
    timeoutMs: { doc: 'Timeout of one write attempt (ms).', default: 10000, format: F.positiveInt },
    retryInitialMs: { doc: 'First retry delay (ms); doubles up to retryMaxMs.', default: 1000, format: F.positiveInt },
    retryMaxMs: { doc: 'Longest retry delay (ms).', default: 30000, format: F.positiveInt },
    breakerThreshold: { doc: 'Consecutive failed writes that open the circuit breaker.', default: 3, format: F.positiveInt },
    breakerHalfOpenAfterMs: {
      doc: 'How long (ms) an open breaker waits before letting one trial write through.',
      default: 30000,
      format: F.positiveInt,
    },
  } satisfies SchemaTree;
}

export function influxSinkSchema() {
  return {
    enabled: { doc: 'Write to this InfluxDB.', default: true, format: F.boolean },
    url: { doc: 'InfluxDB 2.x/3.x base URL.', default: 'http://127.0.0.1:8086', format: F.httpUrl },
    token: { doc: 'API token with write access to the bucket.', default: '', format: F.string, sensitive: true },
    org: { doc: 'Organisation.', default: 'edgebridge', format: F.nonEmptyString },
    bucket: { doc: 'Bucket (database) written to.', default: 'edgebridge', format: F.nonEmptyString },
    gzip: { doc: 'Gzip request bodies.', default: true, format: F.boolean },
    tls: tlsSchema('InfluxDB'),
    batch: batchSchema(),
    resilience: resilienceSchema(),
  } satisfies SchemaTree;
}

export function redisSinkSchema() {
  return {
    enabled: { doc: 'Write to this Redis.', default: true, format: F.boolean },
    url: { doc: 'Redis URL; may carry user:password.', default: 'redis://127.0.0.1:6379', format: F.redisUrl },
    username: { doc: "ACL user name (overrides the URL's).", default: '', format: F.string },
    password: { doc: "Password (overrides the URL's).", default: '', format: F.string, sensitive: true },
    keyPrefix: { doc: 'Prefix of every key written.', default: 'eb:', format: F.string },
    deviceTag: { doc: 'Tag whose value names the device in the latest-value hashes.', default: 'device', format: F.nonEmptyString },
    latest: { doc: 'Keep a latest-value hash per device.', default: true, format: F.boolean },
    streams: { doc: 'Append every point to a stream per measurement.', default: true, format: F.boolean },
    streamMaxLen: { doc: 'Approximate MAXLEN of each stream.', default: 100000, format: F.positiveInt },
    ...redisTopologySchema(),
    batch: batchSchema(),
    resilience: resilienceSchema(),
  } satisfies SchemaTree;
}

/** Where the Redis servers are and how the sink trusts them: mode, Sentinel/Cluster addresses, TLS, WAIT. */
function redisTopologySchema() {
  return {
    mode: {
      doc: 'standalone: the server in `url`. sentinel: ask `sentinels` for the master named `sentinelName` (follows failovers). cluster: a Redis Cluster, discovered from `clusterNodes` (empty: the host:port of `url`). The scheme (rediss:// = TLS) and credentials of `url` apply in every mode; with rediss:// the `tls` settings apply to the Sentinels and every Cluster node too.',
      default: 'standalone',
      format: REDIS_F.redisMode,
    },
    sentinels: {
      doc: 'Sentinel addresses (mode sentinel), e.g. `["10.0.0.1:26379","10.0.0.2:26379"]`.',
      default: [],
      format: REDIS_F.hostPortList,
    },
    sentinelName: { doc: 'Master name monitored by the Sentinels (mode sentinel).', default: 'mymaster', format: F.nonEmptyString },
    sentinelUsername: {
      doc: 'ACL user name for the Sentinels themselves (mode sentinel; Sentinel `user` directives). Empty: none.',
      default: '',
      format: F.string,
    },
    sentinelPassword: {
      doc: "Password for the Sentinels themselves (mode sentinel; Sentinel `requirepass` or its ACL user). The master's credentials are `username`/`password`.",
      default: '',
      format: F.string,
      sensitive: true,
    },
    clusterNodes: {
      doc: 'Cluster seed nodes (mode cluster); the rest are discovered. Empty: the host:port of `url`.',
      default: [],
      format: REDIS_F.hostPortList,
    },
    tls: tlsSchema('Redis'),
    waitReplicas: {
      doc: 'After each batch, `WAIT` until this many replicas hold it before the spool moves on (0 = off). Fewer within waitTimeoutMs: the batch is kept and retried. Protects acknowledged batches from a master failover.',
      default: 0,
      format: F.nonNegativeInt,
    },
    waitTimeoutMs: { doc: 'How long (ms) one `WAIT` may take; must be below resilience.timeoutMs.', default: 1000, format: F.positiveInt },
  } satisfies SchemaTree;
}
