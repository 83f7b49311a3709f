/**
 * Schemas of one InfluxDB / Redis sink. Used twice: under `sinks.influx` / `sinks.redis` (where
 * schema.ts adds env vars and CLI flags) and to validate each element of `sinks.extra`.
 */
import type { SchemaTree } from './schemaTree.ts';
import { tlsSchema } from './tlsSchema.ts';

export type SinkType = 'influx' | 'redis';
export const SINK_TYPES: readonly SinkType[] = ['influx', 'redis'];

function batchSchema(): SchemaTree {
  return {
    maxPoints: { doc: 'Flush when this many points are buffered.', default: 5000, format: 'positive-int' },
    maxBytes: { doc: 'Flush when the buffered payload reaches this many bytes.', default: 1048576, format: 'positive-int' },
    flushIntervalMs: { doc: 'Flush at least this often (ms) while points are buffered.', default: 1000, format: 'positive-int' },
  };
}

function resilienceSchema(): SchemaTree {
  return {
    timeoutMs: { doc: 'Timeout of one write attempt (ms).', default: 10000, format: 'positive-int' },
    retryInitialMs: { doc: 'First retry delay (ms); doubles up to retryMaxMs.', default: 1000, format: 'positive-int' },
    retryMaxMs: { doc: 'Longest retry delay (ms).', default: 30000, format: 'positive-int' },
    breakerThreshold: { doc: 'Consecutive failed writes that open the circuit breaker.', default: 3, format: 'positive-int' },
    breakerHalfOpenAfterMs: { doc: 'How long (ms) an open breaker waits before letting one trial write through.', default: 30000, format: 'positive-int' },
  };
}

export function influxSinkSchema(): SchemaTree {
  return {
    enabled: { doc: 'Write to this InfluxDB.', default: true, format: 'boolean' },
    url: { doc: 'InfluxDB 2.x/3.x base URL.', default: 'http://127.0.0.1:8086', format: 'http-url' },
    token: { doc: 'API token with write access to the bucket.', default: '', format: 'string', sensitive: true },
    org: { doc: 'Organisation.', default: 'edgebridge', format: 'non-empty-string' },
    bucket: { doc: 'Bucket (database) written to.', default: 'edgebridge', format: 'non-empty-string' },
    gzip: { doc: 'Gzip request bodies.', default: true, format: 'boolean' },
    tls: tlsSchema('InfluxDB'),
    batch: batchSchema(),
    resilience: resilienceSchema(),
  };
}

export function redisSinkSchema(): SchemaTree {
  return {
    enabled: { doc: 'Write to this Redis.', default: true, format: 'boolean' },
    url: { doc: 'Redis URL; may carry user:password.', default: 'redis://127.0.0.1:6379', format: 'redis-url' },
    username: { doc: 'ACL user name (overrides the URL\'s).', default: '', format: 'string' },
    password: { doc: 'Password (overrides the URL\'s).', default: '', format: 'string', sensitive: true },
    keyPrefix: { doc: 'Prefix of every key written.', default: 'eb:', format: 'string' },
    deviceTag: { doc: 'Tag whose value names the device in the latest-value hashes.', default: 'device', format: 'non-empty-string' },
    latest: { doc: 'Keep a latest-value hash per device.', default: true, format: 'boolean' },
    streams: { doc: 'Append every point to a stream per measurement.', default: true, format: 'boolean' },
    streamMaxLen: { doc: 'Approximate MAXLEN of each stream.', default: 100000, format: 'positive-int' },
    ...redisTopologySchema(),
    batch: batchSchema(),
    resilience: resilienceSchema(),
  };
}

/** Where the Redis servers are and how the sink trusts them: mode, Sentinel/Cluster addresses, TLS, WAIT. */
function redisTopologySchema(): SchemaTree {
  return {
    mode: {
      doc: 'standalone: the server in `url`. sentinel: ask `sentinels` for the master named `sentinelName` (follows failovers). cluster: a Redis Cluster, discovered from `clusterNodes` (empty: the host:port of `url`). The scheme (rediss:// = TLS) and credentials of `url` apply in every mode; with rediss:// the `tls` settings apply to the Sentinels and every Cluster node too.',
      default: 'standalone',
      format: 'redis-mode',
    },
    sentinels: { doc: 'Sentinel addresses (mode sentinel), e.g. `["10.0.0.1:26379","10.0.0.2:26379"]`.', default: [], format: 'host-port-list' },
    sentinelName: { doc: 'Master name monitored by the Sentinels (mode sentinel).', default: 'mymaster', format: 'non-empty-string' },
    sentinelUsername: { doc: 'ACL user name for the Sentinels themselves (mode sentinel; Sentinel `user` directives). Empty: none.', default: '', format: 'string' },
    sentinelPassword: { doc: 'Password for the Sentinels themselves (mode sentinel; Sentinel `requirepass` or its ACL user). The master\'s credentials are `username`/`password`.', default: '', format: 'string', sensitive: true },
    clusterNodes: { doc: 'Cluster seed nodes (mode cluster); the rest are discovered. Empty: the host:port of `url`.', default: [], format: 'host-port-list' },
    tls: tlsSchema('Redis'),
    waitReplicas: {
      doc: 'After each batch, `WAIT` until this many replicas hold it before the spool moves on (0 = off). Fewer within waitTimeoutMs: the batch is kept and retried. Protects acknowledged batches from a master failover.',
      default: 0,
      format: 'non-negative-int',
    },
    waitTimeoutMs: { doc: 'How long (ms) one `WAIT` may take; must be below resilience.timeoutMs.', default: 1000, format: 'positive-int' },
  };
}

export function sinkSchema(type: SinkType): SchemaTree {
  return type === 'influx' ? influxSinkSchema() : redisSinkSchema();
}
