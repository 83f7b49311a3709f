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
 * The keys of `sinks.extra[…]` have no variables (only their secrets do: EDGEBRIDGE_SINK_<NAME>_TOKEN / _PASSWORD).
 */
import { hostname as osHostname } from 'node:os';
import { DEFAULT_ROUTE, parseRoutes } from '../route/parseRoutes.ts';
import { coerceJson, F } from './formats.ts';
import { isLeaf, leaf, type SchemaNode, type SchemaTree } from './schemaTree.ts';
import { extraSinksFormat, influxSinkSchema, redisSinkSchema, tlsSchema } from './sinkSchema.ts';
import { sparkplugSchema } from './sparkplugSchema.ts';

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

/** `sinks.influx.batch.maxPoints` → `influx`, `batch`, `max`, `points`. */
function words(key: string): string[] {
  const parts = key.split('.');
  const short = parts[0] === 'sinks' && (parts[1] === 'influx' || parts[1] === 'redis') ? parts.slice(1) : parts;
  return short.flatMap((part) => part.split(/(?<=[a-z0-9])(?=[A-Z])/));
}

/** `mqtt.clientId` → `EDGEBRIDGE_MQTT_CLIENT_ID`. */
export const envNameFor = (key: string): string => ENV_PREFIX + words(key).join('_').toUpperCase();
/** `mqtt.clientId` → `mqtt-client-id` (used as `--mqtt-client-id`). */
export const argNameFor = (key: string): string => words(key).join('-').toLowerCase();
/** `EDGEBRIDGE_MQTT_PASSWORD` → `mqtt_password` (systemd LoadCredential= name). */
export const credentialNameFor = (envName: string): string => envName.slice(ENV_PREFIX.length).toLowerCase();
/** `cloud-eu` → `EDGEBRIDGE_SINK_CLOUD_EU_TOKEN`, credential `sink_cloud_eu_token`. */
export const extraSinkSecretEnvName = (sinkName: string, secretKey: 'token' | 'password'): string =>
  `${ENV_PREFIX}SINK_${sinkName.toUpperCase().replace(/-/g, '_')}_${secretKey.toUpperCase()}`;

/** How an error says where to set a key: its variable, if it has one, or the config file. */
export const howToSet = (key: string): string =>
  key.startsWith('sinks.extra[') ? `set "${key}" in the config file` : `set ${envNameFor(key)} or "${key}" in the config file`;

/** The same tree with env and arg added to every leaf: the tree's type (and so Config's) does not change. */
function withSources<T extends SchemaTree>(tree: T, prefix = ''): T {
  const out: Record<string, SchemaNode> = {};
  for (const [key, node] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!isLeaf(node)) out[key] = withSources(node, path);
    else out[key] = { ...node, env: envNameFor(path), ...(node.sensitive ? {} : { arg: argNameFor(path) }) };
  }
  return out as T; // only optional env/arg were added to leaves
}

/** `hostname` only feeds the default gatewayId (injected so tests and docs are deterministic). */
export function createSchema(hostname: string = osHostname()) {
  return withSources({
    gatewayId: leaf(
      F.gatewayId,
      sanitiseHostname(hostname),
      'Identifies this gateway: MQTT client id, status topic and the `gateway` tag.',
      { docDefault: 'host name, sanitised (`edge-01.example` → `edge-01`)' },
    ),
    gatewayTag: leaf(F.boolean, true, 'Add tag `gateway=<gatewayId>` to every point.'),
    log: {
      level: leaf(F.logLevel, 'info', 'Log level.'),
      collapseIntervalMs: leaf(
        F.nonNegativeInt,
        10000,
        'Repeats of the same warning within this window (ms) are logged once, with a count.',
      ),
    },
    mqtt: {
      url: leaf(F.mqttUrl, 'mqtt://127.0.0.1:1883', 'Broker URL; may carry user:password.'),
      username: leaf(F.string, '', 'Broker user name.'),
      password: leaf(F.string, '', 'Broker password.', { sensitive: true }),
      clientId: leaf(
        F.mqttClientId,
        '',
        'MQTT client id; keep it stable so the persistent session survives restarts. Empty: `edgebridge-<gatewayId>`.',
      ),
      clean: leaf(
        F.boolean,
        false,
        'Start a clean session. false keeps a persistent session: the broker holds QoS 1/2 messages while we are away.',
      ),
      protocolVersion: leaf(F.mqttProtocol, 5, 'MQTT protocol: 4 = 3.1.1, 5 = MQTT 5.'),
      keepalive: leaf(F.nonNegativeInt, 30, 'Keepalive interval (s).'),
      connectTimeoutMs: leaf(F.positiveInt, 10000, 'Connect timeout (ms).'),
      sessionExpirySec: leaf(F.nonNegativeInt, 86400 * 7, 'MQTT 5 session expiry (s) of the persistent session.'),
      receiveMaximum: leaf(
        F.receiveMaximum,
        1000,
        'MQTT 5 Receive Maximum: how many QoS 1/2 messages the broker may send before the gateway acknowledges them (1-65535). Keeps packet ids of a long backlog from wrapping.',
      ),
      readCoalesceMs: leaf(
        F.nonNegativeInt,
        10,
        'After a small burst of QoS 0 messages (under 128) the broker connection is left unread this long (ms), so the next read brings what arrived meanwhile: fewer wake-ups and less CPU per message at moderate rates, at most this much latency added. Not after QoS 1/2 messages (the broker sends only so many before our acknowledgements), nor after a big burst (more is waiting). 0 = read at once.',
      ),
      reconnectMinMs: leaf(
        F.positiveInt,
        300,
        'First reconnect delay (ms), jittered to half to all of it; doubles with each failed attempt, but stays at most 750 ms (or this, if larger) for the first 45 s of an outage and at most 1/60 of the outage after that (1 s after a minute).',
      ),
      connections: leaf(
        F.mqttConnections,
        'auto',
        'MQTT connections of this gateway, sharing the subscriptions (`$share/<clientId>/<filter>`, client ids `<clientId>-<i>`): with spool.ack=fsync one fdatasync then acknowledges one message per connection, and a crash leaves at most one duplicate per connection. auto: 16 with spool.ack=fsync (no Sparkplug route, and no persistent one-connection session of an earlier run in spool.dir), else 1 (one connection, plain subscriptions, as before). Each is a session at the broker. See Durability.',
      ),
      reconnectMaxMs: leaf(F.positiveInt, 30000, 'Longest reconnect delay (ms), reached after an outage of about 60 times this.'),
      subscriptions: leaf(
        F.subscriptions,
        [{ topic: 'sensors/#', qos: 1 }],
        'Topic filters subscribed to; `$share/<group>/<filter>` for a shared subscription (see Scale-out). Env/CLI: JSON, or `topic:qos,topic:qos`.',
      ),
      statusTopic: leaf(
        F.statusTopic,
        'edgebridge/{gatewayId}/status',
        'Retained birth / last-will topic; `{gatewayId}` is substituted. Empty disables.',
      ),
      deadLetterTopic: leaf(
        F.statusTopic,
        'edgebridge/{gatewayId}/deadletter',
        'Rejected messages are re-published here with the reason (QoS 0, not retained, bounded, dropped and counted when the broker cannot take them); `{gatewayId}` is substituted. Empty disables.',
      ),
      maxPayloadBytes: leaf(F.positiveInt, 65536, 'Larger messages are rejected as `too_large`.'),
      maxFieldsPerPoint: leaf(
        F.positiveInt,
        1000,
        "Points with more fields are rejected as `too_many_fields` (Redis's Lua unpack fails near 4 000 fields, and the whole batch with it).",
      ),
      maxNameBytes: leaf(
        F.positiveInt,
        512,
        'Longer measurements, tag keys/values and field keys (UTF-8 bytes) are rejected as `too_long`.',
      ),
      maxStringBytes: leaf(F.positiveInt, 16384, 'Longer string field values (UTF-8 bytes) are rejected as `too_long`.'),
      maxTopicBytes: leaf(
        F.positiveInt,
        1024,
        'Messages on longer topics (UTF-8 bytes) are rejected as `too_long`; topic levels become tags.',
      ),
      tls: tlsSchema('the broker'),
    },
    routes: {
      doc: 'How topics become points (see Routes below). Missing route keys take the defaults of this route.',
      default: [DEFAULT_ROUTE], // a RouteConfig: the format's type is the compiled Route
      format: { describe: 'JSON array of routes', coerce: coerceJson, parse: parseRoutes },
    },
    routesFile: leaf(
      F.string,
      '',
      "JSON file holding an array of routes that replaces `routes`; relative paths are resolved against the config file's directory. Empty: use `routes`.",
    ),
    sinks: {
      influx: influxSinkSchema(),
      redis: redisSinkSchema(),
      extra: leaf(
        extraSinksFormat,
        [],
        'More sinks, each `{"name", "type": "influx"|"redis", ...keys of that type}`; names unique, `/^[a-z][a-z0-9_-]*$/`.',
      ),
    },
    spool: {
      type: leaf(
        F.spoolType,
        'disk',
        'disk: a write-ahead log in spool.dir that survives crashes and restarts (default). memory: RAM only, lost on restart (containers without a volume, tests).',
      ),
      dir: leaf(
        F.nonEmptyString,
        '/var/lib/edgebridge/spool',
        'Directory of the on-disk spool (segments and per-sink cursors); systemd StateDirectory.',
      ),
      maxBytes: leaf(F.positiveInt, 1073741824, 'Spool size limit (bytes). When reached, spool.overflow decides.'),
      overflow: leaf(
        F.overflowPolicy,
        'dropOldest',
        'When the spool is full (or the disk is): dropOldest discards the oldest segment and counts it per sink; block stops acknowledging MQTT so the broker keeps the messages.',
      ),
      ack: leaf(
        F.ackMode,
        'write',
        'write: acknowledge a QoS 1/2 message once its record is written to the spool file (survives a crash or kill; a power cut loses at most spool.fsyncIntervalMs). fsync: acknowledge only after the record is on disk (survives a power cut; throughput bounded by fsync latency).',
      ),
      fsyncIntervalMs: leaf(F.positiveInt, 200, 'In ack=write mode, how often (ms) written records are flushed to disk (fdatasync).'),
      segmentBytes: leaf(
        F.positiveInt,
        16777216,
        'Size (bytes) at which a segment file is closed and a new one started; at most spool.maxBytes / 4 is used.',
      ),
      checkpointIntervalMs: leaf(
        F.positiveInt,
        1000,
        'How often (ms) at most each sink cursor is saved; after a crash, at most this much is sent again.',
      ),
    },
    http: {
      host: leaf(F.nonEmptyString, '127.0.0.1', 'Health/metrics HTTP listen address.'),
      port: leaf(F.tcpPort, 8080, 'Health/metrics HTTP port (0 = any free port).'),
      token: leaf(
        F.string,
        '',
        'Bearer token required for /status and /metrics (empty: none). /healthz and /readyz stay open for probes. Set it whenever http.host is not loopback.',
        { sensitive: true },
      ),
    },
    sparkplug: sparkplugSchema(),
    shutdown: {
      timeoutMs: leaf(F.positiveInt, 10000, 'Grace period (ms) to drain and flush on SIGTERM before exiting.'),
    },
  } satisfies SchemaTree);
}

export type Schema = ReturnType<typeof createSchema>;
