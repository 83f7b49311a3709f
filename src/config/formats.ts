/**
 * The config formats. Each carries its value's type (`FormatSpec<T>`): a schema leaf's type in the loaded Config
 * is the T of its format (see ConfigOf in schemaTree.ts), so adding a key is one line in the schema. We use our own
 * formats rather than convict's because (1) their coercion of env/CLI strings is lax (`parseInt("80x")` is 80, any
 * boolean other than "false" is true) and (2) their errors carry no structure. A string our coercer cannot parse is
 * left as is, so the error shows exactly what the operator typed.
 */
import { FormatError } from '../errors/FormatError.ts';
import { subscriptionFilterProblem, TOPIC_FILTER_EXPECTED } from '../topic/subscriptionFilterProblem.ts';

export interface FormatSpec<T> {
  /** For the reference table. */
  readonly describe: string;
  /** Turns an env var / CLI flag / file string into the value's type; leaves unparsable input alone. */
  readonly coerce?: (raw: string) => unknown;
  /** The value as T, or a FormatError saying what was expected. The only check a value gets. */
  readonly parse: (value: unknown) => T;
}

export type Qos = 0 | 1 | 2;
export interface Subscription {
  readonly topic: string;
  readonly qos: Qos;
}
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const coerceInt = (raw: string): unknown => (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw);
const BOOLEANS = new Map(Object.entries({ true: true, 1: true, yes: true, on: true, false: false, 0: false, no: false, off: false }));

/** Lists and objects arrive from env/CLI as JSON; bad JSON stays a string and fails to parse. */
export function coerceJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export const isQos = (value: unknown): value is Qos => value === 0 || value === 1 || value === 2;
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A format whose value is `value` itself once `ok` accepts it. */
function format<T>(
  describe: string,
  expected: string,
  ok: (value: unknown) => value is T,
  coerce?: (raw: string) => unknown,
): FormatSpec<T> {
  return {
    describe,
    ...(coerce ? { coerce } : {}),
    parse(value) {
      if (!ok(value)) throw new FormatError({ expected, value });
      return value;
    },
  };
}

const intFormat = (min: number, max: number, describe: string, expected: string) =>
  format(describe, expected, (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max, coerceInt);

const stringFormat = (describe: string, expected: string, ok: (s: string) => boolean) =>
  format(describe, expected, (v): v is string => typeof v === 'string' && ok(v));

export function enumFormat<const T extends string | number>(values: readonly T[]): FormatSpec<T> {
  const numeric = values.every((v) => typeof v === 'number');
  return format(values.join(' | '), `one of ${values.join(', ')}`, (v): v is T => values.includes(v as T), numeric ? coerceInt : undefined);
}

function urlFormat(schemes: readonly string[]): FormatSpec<string> {
  const expected = `a URL with scheme ${schemes.slice(0, -1).join(', ')} or ${schemes.at(-1)}`;
  return {
    describe: `URL (${schemes.join(', ')})`,
    parse(value) {
      const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
      if (!url || !schemes.includes(url.protocol.slice(0, -1)) || url.hostname === '') throw new FormatError({ expected, value });
      // URL accepts a bare '%' in user:password, but the clients decode it (mqtt.js: URIError at connect).
      try {
        decodeURIComponent(url.username);
        decodeURIComponent(url.password);
      } catch {
        const encoded = `${expected} whose user:password is percent-encoded (% as %25, @ as %40, : as %3A, / as %2F)`;
        throw new FormatError({ expected: encoded, value });
      }
      return value as string;
    },
  };
}

function parseSubscription(sub: unknown, i: number): Subscription {
  if (!isPlainObject(sub)) throw new FormatError({ path: `[${i}]`, expected: 'an object {topic, qos}', value: sub });
  const unknown = Object.keys(sub).find((key) => key !== 'topic' && key !== 'qos');
  if (unknown !== undefined) {
    throw new FormatError({ path: `[${i}].${unknown}`, expected: 'one of topic, qos', value: sub[unknown], unknownKey: true });
  }
  const { topic, qos } = sub;
  const problem = typeof topic === 'string' ? subscriptionFilterProblem(topic) : TOPIC_FILTER_EXPECTED;
  if (problem !== undefined) throw new FormatError({ path: `[${i}].topic`, expected: problem, value: topic });
  if (!isQos(qos)) throw new FormatError({ path: `[${i}].qos`, expected: 'one of 0, 1, 2', value: qos });
  return { topic: topic as string, qos };
}

/** `host:port` or `[v6]:port`; port 1-65535. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  return m && port >= 1 && port <= 65535 ? { host: m[1] ?? m[2]!, port } : undefined;
}

function parseHostPortItem(item: unknown, i: number): HostPort {
  const at = typeof item === 'string' ? item.lastIndexOf('@') : -1;
  if (at !== -1) {
    // `user:password@host:port` (or a URL with credentials): never echo what is before the '@'.
    throw new FormatError({
      path: `[${i}]`,
      expected: 'a "host:port" string without credentials (Sentinels: sinks.redis.sentinelUsername / sentinelPassword)',
      value: `[redacted]@${(item as string).slice(at + 1)}`,
    });
  }
  const parsed = typeof item === 'string' ? parseHostPort(item) : undefined;
  if (parsed === undefined) throw new FormatError({ path: `[${i}]`, expected: 'a "host:port" string (IPv6: "[::1]:26379")', value: item });
  return parsed;
}

/** Every format of a scalar or a small list, by what the schema calls it: `format: F.positiveInt`. */
export const F = {
  string: stringFormat('string', 'a string', () => true),
  nonEmptyString: stringFormat('non-empty string', 'a non-empty string', (s) => s.trim() !== ''),
  boolean: format(
    'boolean',
    'a boolean (true or false)',
    (v): v is boolean => typeof v === 'boolean',
    (raw) => BOOLEANS.get(raw.trim().toLowerCase()) ?? raw,
  ),
  tcpPort: intFormat(0, 65535, 'port (0-65535)', 'a TCP port, an integer from 0 to 65535'),
  nonNegativeInt: intFormat(0, Number.MAX_SAFE_INTEGER, 'integer ≥ 0', 'an integer ≥ 0'),
  positiveInt: intFormat(1, Number.MAX_SAFE_INTEGER, 'integer ≥ 1', 'an integer ≥ 1'),
  mqttUrl: urlFormat(['mqtt', 'mqtts', 'ws', 'wss']),
  httpUrl: urlFormat(['http', 'https']),
  redisUrl: urlFormat(['redis', 'rediss']),
  gatewayId: stringFormat(
    'id: `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`',
    '1-64 characters of letters, digits, "_", "." or "-", starting with a letter or digit',
    (s) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(s),
  ),
  logLevel: enumFormat(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  mqttProtocol: enumFormat([4, 5]),
  overflowPolicy: enumFormat(['dropOldest', 'block']),
  spoolType: enumFormat(['disk', 'memory']),
  receiveMaximum: intFormat(1, 65535, 'integer 1-65535', 'an integer from 1 to 65535'),
  ackMode: enumFormat(['write', 'fsync']),
  mqttConnections: format(
    '`auto` or integer 1-32',
    '"auto" or an integer from 1 to 32',
    (v): v is 'auto' | number => v === 'auto' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 32),
    (raw) => (raw.trim() === 'auto' ? 'auto' : coerceInt(raw)),
  ),
  statusTopic: stringFormat(
    'MQTT topic without wildcards, or empty',
    'an MQTT topic without + or # wildcards, or "" to disable',
    (s) => !s.includes('+') && !s.includes('#') && !s.includes('\u0000'),
  ),
  mqttClientId: stringFormat(
    'string (empty = derived)',
    'a client id without spaces, "/", "+" or "#" ("" = edgebridge-<gatewayId>)',
    (s) => !/[\s+#/]/.test(s),
  ),
  subscriptions: {
    describe: 'JSON array of `{topic, qos}`',
    // Env/CLI also accept the shorthand `sensors/#:1,alarms/+:2` (qos defaults to 1).
    coerce: (raw) =>
      raw.trim().startsWith('[')
        ? coerceJson(raw)
        : raw.split(',').map((item) => {
            const m = /^(.*?)(?::([0-2]))?$/.exec(item.trim())!;
            return { topic: m[1], qos: m[2] === undefined ? 1 : Number(m[2]) };
          }),
    parse(value) {
      if (!Array.isArray(value) || value.length === 0) throw new FormatError({ expected: 'a non-empty array of {topic, qos}', value });
      return value.map(parseSubscription);
    },
  } satisfies FormatSpec<Subscription[]>,
  redisMode: enumFormat(['standalone', 'sentinel', 'cluster']),
  /** Sentinel addresses and Cluster seed nodes: configured as `"host:port"` strings, loaded as {host, port}. */
  hostPortList: {
    describe: 'JSON array of `"host:port"` (env/CLI also `h:p,h:p`)',
    coerce(raw) {
      const s = raw.trim();
      if (s.startsWith('[') && !/^\[[0-9A-Fa-f:.]+\]:/.test(s)) return coerceJson(raw);
      return s === '' ? [] : s.split(',').map((x) => x.trim());
    },
    parse(value) {
      if (!Array.isArray(value)) throw new FormatError({ expected: 'an array of "host:port" strings', value });
      return value.map(parseHostPortItem);
    },
  } satisfies FormatSpec<HostPort[]>,
};
