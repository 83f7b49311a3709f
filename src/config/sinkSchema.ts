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
    batch: batchSchema(),
    resilience: resilienceSchema(),
  };
}

export function sinkSchema(type: SinkType): SchemaTree {
  return type === 'influx' ? influxSinkSchema() : redisSinkSchema();
}
