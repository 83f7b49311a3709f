/**
 * The convict schema of edgebridge's configuration, and the only declaration of it: the type of the loaded Config
 * is derived from this tree (Config.ts). The sinks are declared as `sinks.influx`, `sinks.redis` and `sinks.extra`
 * and the loader turns them into one list.
 *
 * Every leaf gets an environment variable and (unless it is a secret) a CLI flag, named
 * mechanically from its key so nobody has to guess:
 *   env:  EDGEBRIDGE_ + key in UPPER_SNAKE, `sinks.influx.` / `sinks.redis.` shortened to
 *         INFLUX_ / REDIS_      (mqtt.clientId → EDGEBRIDGE_MQTT_CLIENT_ID,
 *                                sinks.influx.batch.maxPoints → EDGEBRIDGE_INFLUX_BATCH_MAX_POINTS)
 *   CLI:  --key-in-kebab-case with the same shortening (--mqtt-client-id, --influx-batch-max-points);
 *         booleans also take --no-<flag>. Secrets have no flag: argv is visible to every local user.
 * Secrets also come from `<ENV>_FILE` and from systemd's $CREDENTIALS_DIRECTORY/<credential>,
 * credential = env name without EDGEBRIDGE_, lower-cased (mqtt_password, influx_token, redis_password).
 */
import { hostname as osHostname } from 'node:os';
import { F } from './formats.ts';
import { extraSinksFormat } from './parseExtraSinks.ts';
import { DEFAULT_ROUTE, routesFormat } from './parseRoutes.ts';
import { isLeaf, type SchemaNode, type SchemaTree } from './schemaTree.ts';
import { influxSinkSchema, redisSinkSchema } from './sinkSchema.ts';
import { tlsSchema } from './tlsSchema.ts';

export const ENV_PREFIX = 'EDGEBRIDGE_';
/** Env var naming the JSON config file (CLI: --config FILE). */
export const CONFIG_FILE_ENV = 'EDGEBRIDGE_CONFIG';
export const CONFIG_FILE_FLAG = 'config';

/** `edge-01.plant.example` → `edge-01`: a valid gateway id from whatever the host is called. */
export function sanitiseHostname(name: string): string {
  const id = (name.split('.')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 64);
  return id === '' ? 'edgebridge' : id;
}

function segments(key: string): string[] {
  const parts = key.split('.');
  return parts[0] === 'sinks' && (parts[1] === 'influx' || parts[1] === 'redis') ? parts.slice(1) : parts;
}

const words = (part: string): string[] => part.split(/(?<=[a-z0-9])(?=[A-Z])/);

/** `mqtt.clientId` → `EDGEBRIDGE_MQTT_CLIENT_ID`. */
export function envNameFor(key: string): string {
  return ENV_PREFIX + segments(key).flatMap(words).join('_').toUpperCase();
}

/** `mqtt.clientId` → `mqtt-client-id` (used as `--mqtt-client-id`). */
export function argNameFor(key: string): string {
  return segments(key).flatMap(words).join('-').toLowerCase();
}

/** `EDGEBRIDGE_MQTT_PASSWORD` → `mqtt_password` (systemd LoadCredential= name). */
export function credentialNameFor(envName: string): string {
  return envName.slice(ENV_PREFIX.length).toLowerCase();
}

/** The same tree with env and arg added to every leaf: the tree's type (and so Config's) does not change. */
function withSources<T extends SchemaTree>(tree: T, prefix = ''): T {
  const out: Record<string, SchemaNode> = {};
  for (const [key, node] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!isLeaf(node)) out[key] = withSources(node, path);
    else out[key] = node.sensitive ? { ...node, env: envNameFor(path) } : { ...node, env: envNameFor(path), arg: argNameFor(path) };
  }
  return out as T; // only optional env/arg were added to leaves
}

/** `hostname` only feeds the default gatewayId (injected so tests and docs are deterministic). */
export function createSchema(hostname: string = osHostname()) {
  return withSources({
    gatewayId: {
      doc: 'Identifies this gateway: MQTT client id, status topic and the `gateway` tag.',
      default: sanitiseHostname(hostname),
      docDefault: 'host name, sanitised (`edge-01.example` → `edge-01`)',
      format: F.gatewayId,
    },
    gatewayTag: { doc: 'Add tag `gateway=<gatewayId>` to every point.', default: true, format: F.boolean },
    log: {
      level: { doc: 'Log level.', default: 'info', format: F.logLevel },
      collapseIntervalMs: {
        doc: 'Repeats of the same warning within this window (ms) are logged once, with a count.',
        default: 10000,
        format: F.nonNegativeInt,
      },
    },
    mqtt: {
      url: { doc: 'Broker URL; may carry user:password.', default: 'mqtt://127.0.0.1:1883', format: F.mqttUrl },
      username: { doc: 'Broker user name.', default: '', format: F.string },
      password: { doc: 'Broker password.', default: '', format: F.string, sensitive: true },
      clientId: {
        doc: 'MQTT client id; keep it stable so the persistent session survives restarts. Empty: `edgebridge-<gatewayId>`.',
        default: '',
        format: F.mqttClientId,
      },
      clean: {
        doc: 'Start a clean session. false keeps a persistent session: the broker holds QoS 1/2 messages while we are away.',
        default: false,
        format: F.boolean,
      },
      protocolVersion: { doc: 'MQTT protocol: 4 = 3.1.1, 5 = MQTT 5.', default: 5, format: F.mqttProtocol },
      keepalive: { doc: 'Keepalive interval (s).', default: 30, format: F.nonNegativeInt },
      connectTimeoutMs: { doc: 'Connect timeout (ms).', default: 10000, format: F.positiveInt },
      sessionExpirySec: { doc: 'MQTT 5 session expiry (s) of the persistent session.', default: 86400 * 7, format: F.nonNegativeInt },
      receiveMaximum: {
        doc: 'MQTT 5 Receive Maximum: how many QoS 1/2 messages the broker may send before the gateway acknowledges them (1-65535). Keeps packet ids of a long backlog from wrapping.',
        default: 1000,
        format: F.receiveMaximum,
      },
      reconnectMinMs: {
        doc: 'First reconnect delay (ms), jittered to half to all of it; doubles with each failed attempt, but stays at most 750 ms (or this, if larger) for the first 45 s of an outage and at most 1/60 of the outage after that (1 s after a minute).',
        default: 300,
        format: F.positiveInt,
      },
      reconnectMaxMs: {
        doc: 'Longest reconnect delay (ms), reached after an outage of about 60 times this.',
        default: 30000,
        format: F.positiveInt,
      },
      subscriptions: {
        doc: 'Topic filters subscribed to; `$share/<group>/<filter>` for a shared subscription (see Scale-out). Env/CLI: JSON, or `topic:qos,topic:qos`.',
        default: [{ topic: 'sensors/#', qos: 1 }],
        format: F.subscriptions,
      },
      statusTopic: {
        doc: 'Retained birth / last-will topic; `{gatewayId}` is substituted. Empty disables.',
        default: 'edgebridge/{gatewayId}/status',
        format: F.statusTopic,
      },
      deadLetterTopic: {
        doc: 'Rejected messages are re-published here with the reason (QoS 0, not retained, bounded, dropped and counted when the broker cannot take them); `{gatewayId}` is substituted. Empty disables.',
        default: 'edgebridge/{gatewayId}/deadletter',
        format: F.statusTopic,
      },
      maxPayloadBytes: { doc: 'Larger messages are rejected as `too_large`.', default: 65536, format: F.positiveInt },
      maxFieldsPerPoint: {
        doc: "Points with more fields are rejected as `too_many_fields` (Redis's Lua unpack fails near 4 000 fields, and the whole batch with it).",
        default: 1000,
        format: F.positiveInt,
      },
      maxNameBytes: {
        doc: 'Longer measurements, tag keys/values and field keys (UTF-8 bytes) are rejected as `too_long`.',
        default: 512,
        format: F.positiveInt,
      },
      maxStringBytes: {
        doc: 'Longer string field values (UTF-8 bytes) are rejected as `too_long`.',
        default: 16384,
        format: F.positiveInt,
      },
      maxTopicBytes: {
        doc: 'Messages on longer topics (UTF-8 bytes) are rejected as `too_long`; topic levels become tags.',
        default: 1024,
        format: F.positiveInt,
      },
      tls: tlsSchema('the broker'),
    },
    routes: {
      doc: 'How topics become points (see Routes below). Missing route keys take the defaults of this route.',
      default: [DEFAULT_ROUTE],
      format: routesFormat,
    },
    routesFile: {
      doc: "JSON file holding an array of routes that replaces `routes`; relative paths are resolved against the config file's directory. Empty: use `routes`.",
      default: '',
      format: F.string,
    },
    sinks: {
      influx: influxSinkSchema(),
      redis: redisSinkSchema(),
      extra: {
        doc: 'More sinks, each `{"name", "type": "influx"|"redis", ...keys of that type}`; names unique, `/^[a-z][a-z0-9_-]*$/`.',
        default: [],
        format: extraSinksFormat,
      },
    },
    spool: {
      type: {
        doc: 'disk: a write-ahead log in spool.dir that survives crashes and restarts (default). memory: RAM only, lost on restart (containers without a volume, tests).',
        default: 'disk',
        format: F.spoolType,
      },
      dir: {
        doc: 'Directory of the on-disk spool (segments and per-sink cursors); systemd StateDirectory.',
        default: '/var/lib/edgebridge/spool',
        format: F.nonEmptyString,
      },
      maxBytes: { doc: 'Spool size limit (bytes). When reached, spool.overflow decides.', default: 1073741824, format: F.positiveInt },
      overflow: {
        doc: 'When the spool is full (or the disk is): dropOldest discards the oldest segment and counts it per sink; block stops acknowledging MQTT so the broker keeps the messages.',
        default: 'dropOldest',
        format: F.overflowPolicy,
      },
      ack: {
        doc: 'write: acknowledge a QoS 1/2 message once its record is written to the spool file (survives a crash or kill; a power cut loses at most spool.fsyncIntervalMs). fsync: acknowledge only after the record is on disk (survives a power cut; throughput bounded by fsync latency).',
        default: 'write',
        format: F.ackMode,
      },
      fsyncIntervalMs: {
        doc: 'In ack=write mode, how often (ms) written records are flushed to disk (fdatasync).',
        default: 200,
        format: F.positiveInt,
      },
      segmentBytes: {
        doc: 'Size (bytes) at which a segment file is closed and a new one started; at most spool.maxBytes / 4 is used.',
        default: 16777216,
        format: F.positiveInt,
      },
      checkpointIntervalMs: {
        doc: 'How often (ms) at most each sink cursor is saved; after a crash, at most this much is sent again.',
        default: 1000,
        format: F.positiveInt,
      },
    },
    http: {
      host: { doc: 'Health/metrics HTTP listen address.', default: '127.0.0.1', format: F.nonEmptyString },
      port: { doc: 'Health/metrics HTTP port (0 = any free port).', default: 8080, format: F.tcpPort },
      token: {
        doc: 'Bearer token required for /status and /metrics (empty: none). /healthz and /readyz stay open for probes. Set it whenever http.host is not loopback.',
        default: '',
        format: F.string,
        sensitive: true,
      },
    },
    shutdown: {
      timeoutMs: { doc: 'Grace period (ms) to drain and flush on SIGTERM before exiting.', default: 10000, format: F.positiveInt },
    },
  } satisfies SchemaTree);
}

export type Schema = ReturnType<typeof createSchema>;
