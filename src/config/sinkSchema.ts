/**
 * The repeated blocks of the schema: one client connection's TLS keys, and the keys of one InfluxDB / Redis sink.
 * A sink's keys are declared once and used twice: under `sinks.influx` / `sinks.redis` (where schema.ts adds env
 * vars and CLI flags) and for each element of `sinks.extra`, which is parsed with the schema of its type by the same
 * walk as the rest of the config (defaults, coercion, undeclared keys refused).
 */
import { FormatError } from '../errors/FormatError.ts';
import { coerceJson, enumFormat, F, type FormatSpec, isPlainObject } from './formats.ts';
import { type ConfigOf, leaf, parseTree } from './schemaTree.ts';

/**
 * TLS keys of one client connection (`mqtt.tls`, `sinks.influx.tls`, `sinks.redis.tls`, each extra sink's `tls`).
 * Files, not inline PEM: certificates are rotated by replacing files, and a key file can sit where only the service
 * may read it (a systemd credential). Nothing here is a secret itself: the key file's path is shown, its contents
 * never are.
 */
export function tlsSchema(server: string) {
  return {
    caFile: leaf(
      F.string,
      '',
      `PEM file of the CA certificate(s) that ${server}'s certificate must chain to; empty: the system's CAs. Only for a TLS URL.`,
    ),
    certFile: leaf(F.string, '', `PEM client certificate presented to ${server} (client-certificate auth); needs keyFile.`),
    keyFile: leaf(F.string, '', 'PEM private key (unencrypted) of certFile; may be a systemd credential path. Never logged.'),
    rejectUnauthorized: leaf(
      F.boolean,
      true,
      `Verify ${server}'s certificate (chain and host name). false accepts any certificate — insecure, logged as a warning on every start.`,
    ),
  };
}

const common = () => ({
  batch: {
    maxPoints: leaf(F.positiveInt, 5000, 'Flush when this many points are buffered.'),
    maxBytes: leaf(F.positiveInt, 1048576, 'Flush when the buffered payload reaches this many bytes.'),
    flushIntervalMs: leaf(F.positiveInt, 1000, 'Flush at least this often (ms) while points are buffered.'),
  },
  resilience: {
    timeoutMs: leaf(F.positiveInt, 10000, 'Timeout of one write attempt (ms).'),
    retryInitialMs: leaf(F.positiveInt, 1000, 'First retry delay (ms); doubles up to retryMaxMs.'),
    retryMaxMs: leaf(F.positiveInt, 30000, 'Longest retry delay (ms).'),
    breakerThreshold: leaf(F.positiveInt, 3, 'Consecutive failed writes that open the circuit breaker.'),
    breakerHalfOpenAfterMs: leaf(F.positiveInt, 30000, 'How long (ms) an open breaker waits before letting one trial write through.'),
  },
});

export function influxSinkSchema() {
  return {
    enabled: leaf(F.boolean, true, 'Write to this InfluxDB.'),
    url: leaf(F.httpUrl, 'http://127.0.0.1:8086', 'InfluxDB 2.x/3.x base URL.'),
    token: leaf(F.string, '', 'API token with write access to the bucket.', { sensitive: true }),
    org: leaf(F.nonEmptyString, 'edgebridge', 'Organisation.'),
    bucket: leaf(F.nonEmptyString, 'edgebridge', 'Bucket (database) written to.'),
    gzip: leaf(F.boolean, true, 'Gzip request bodies.'),
    tls: tlsSchema('InfluxDB'),
    ...common(),
  };
}

export function redisSinkSchema() {
  return {
    enabled: leaf(F.boolean, true, 'Write to this Redis.'),
    url: leaf(F.redisUrl, 'redis://127.0.0.1:6379', 'Redis URL; may carry user:password.'),
    username: leaf(F.string, '', "ACL user name (overrides the URL's)."),
    password: leaf(F.string, '', "Password (overrides the URL's).", { sensitive: true }),
    keyPrefix: leaf(F.string, 'eb:', 'Prefix of every key written.'),
    deviceTag: leaf(F.nonEmptyString, 'device', 'Tag whose value names the device in the latest-value hashes.'),
    latest: leaf(F.boolean, true, 'Keep a latest-value hash per device.'),
    streams: leaf(F.boolean, true, 'Append every point to a stream per measurement.'),
    streamMaxLen: leaf(F.positiveInt, 100000, 'Approximate MAXLEN of each stream.'),
    // Where the Redis servers are and how the sink trusts them: mode, Sentinel/Cluster addresses, TLS, WAIT.
    mode: leaf(
      F.redisMode,
      'standalone',
      'standalone: the server in `url`. sentinel: ask `sentinels` for the master named `sentinelName` (follows failovers). cluster: a Redis Cluster, discovered from `clusterNodes` (empty: the host:port of `url`). The scheme (rediss:// = TLS) and credentials of `url` apply in every mode; with rediss:// the `tls` settings apply to the Sentinels and every Cluster node too.',
    ),
    sentinels: leaf(F.hostPortList, [], 'Sentinel addresses (mode sentinel), e.g. `["10.0.0.1:26379","10.0.0.2:26379"]`.'),
    sentinelName: leaf(F.nonEmptyString, 'mymaster', 'Master name monitored by the Sentinels (mode sentinel).'),
    sentinelUsername: leaf(
      F.string,
      '',
      'ACL user name for the Sentinels themselves (mode sentinel; Sentinel `user` directives). Empty: none.',
    ),
    sentinelPassword: leaf(
      F.string,
      '',
      "Password for the Sentinels themselves (mode sentinel; Sentinel `requirepass` or its ACL user). The master's credentials are `username`/`password`.",
      { sensitive: true },
    ),
    clusterNodes: leaf(F.hostPortList, [], 'Cluster seed nodes (mode cluster); the rest are discovered. Empty: the host:port of `url`.'),
    tls: tlsSchema('Redis'),
    waitReplicas: leaf(
      F.nonNegativeInt,
      0,
      'After each batch, `WAIT` until this many replicas hold it before the spool moves on (0 = off). Fewer within waitTimeoutMs: the batch is kept and retried. Protects acknowledged batches from a master failover.',
    ),
    waitTimeoutMs: leaf(F.positiveInt, 1000, 'How long (ms) one `WAIT` may take; must be below resilience.timeoutMs.'),
    ...common(),
  };
}

const SINK_NAME = /^[a-z][a-z0-9_-]*$/;
const sinkName: FormatSpec<string> = {
  describe: 'sink name',
  parse(value) {
    if (typeof value !== 'string' || !SINK_NAME.test(value)) {
      throw new FormatError({ expected: 'a sink name matching /^[a-z][a-z0-9_-]*$/ (required)', value });
    }
    return value;
  },
};
const element = <const T extends 'influx' | 'redis', S>(type: T, schema: S) => ({
  name: leaf(sinkName, '', 'Unique sink name, addressed by routes[].sinks.'),
  type: leaf(enumFormat([type]), type, 'Sink type.'),
  ...schema,
});
const influxElement = () => element('influx', influxSinkSchema());
const redisElement = () => element('redis', redisSinkSchema());

/** One element of `sinks.extra` as configured (TLS paths not yet read): `enabled` and the keys of its type. */
export type ExtraSink = ConfigOf<ReturnType<typeof influxElement>> | ConfigOf<ReturnType<typeof redisElement>>;

function parseElement(raw: unknown, at: string): ExtraSink {
  if (!isPlainObject(raw)) throw new FormatError({ path: at, expected: 'a sink object {name, type, ...}', value: raw });
  if (raw.type === 'influx') return parseTree(influxElement(), raw, at);
  if (raw.type === 'redis') return parseTree(redisElement(), raw, at);
  throw new FormatError({ path: `${at}.type`, expected: 'one of influx, redis', value: raw.type });
}

/** `sinks.extra`: more sinks, each `{name, type, ...keys of that type}`; FormatError paths like `[1].url`. */
export const extraSinksFormat: FormatSpec<ExtraSink[]> = {
  describe: 'JSON array of sink objects',
  coerce: coerceJson,
  parse(value) {
    if (!Array.isArray(value)) throw new FormatError({ expected: 'an array of sink objects', value });
    const sinks = value.map((raw, i) => parseElement(raw, `[${i}]`));
    sinks.forEach((sink, i) => {
      const first = sinks.findIndex((s) => s.name === sink.name);
      const expected = `a sink name not already used (sinks.extra[${first}] is also "${sink.name}")`;
      if (first !== i) throw new FormatError({ path: `[${i}].name`, expected, value: sink.name });
    });
    return sinks;
  },
};
