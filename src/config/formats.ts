/**
 * The config formats. Each carries its value's type (`FormatSpec<T>`): a schema leaf's type in the loaded Config
 * is the T of its format (see ConfigOf in schemaTree.ts), so adding a key is one line in the schema. We use our own
 * formats rather than convict's because (1) their coercion of env/CLI strings is lax (`parseInt("80x")` is 80, any
 * boolean other than "false" is true) and (2) their errors carry no structure. A string our coercer cannot parse is
 * left as is, so the error shows exactly what the operator typed.
 */
import { FormatError } from './FormatError.ts';
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

const INTEGER = /^\s*-?\d+\s*$/;
const coerceInt = (raw: string): unknown => (INTEGER.test(raw) ? Number(raw) : raw);

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerceBoolean(raw: string): unknown {
  const s = raw.trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : raw;
}

/** Lists and objects arrive from env/CLI as JSON; bad JSON stays a string and fails to parse. */
export function coerceJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function intFormat(min: number, max: number, describe: string, expected: string): FormatSpec<number> {
  return {
    describe,
    coerce: coerceInt,
    parse(value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        throw new FormatError({ expected, value });
      }
      return value;
    },
  };
}

/** Human list: `a, b or c`. */
export function orList(items: readonly (string | number)[]): string {
  const s = items.map(String);
  return s.length <= 1 ? s.join('') : `${s.slice(0, -1).join(', ')} or ${s.at(-1)}`;
}

export function enumFormat<const T extends string | number>(values: readonly T[]): FormatSpec<T> {
  const expected = `one of ${values.join(', ')}`;
  return {
    describe: values.join(' | '),
    ...(values.every((v) => typeof v === 'number') ? { coerce: coerceInt } : {}),
    parse(value) {
      const found = values.find((v) => v === value);
      if (found === undefined) throw new FormatError({ expected, value });
      return found;
    },
  };
}

function stringFormat(describe: string, expected: string, ok: (s: string) => boolean): FormatSpec<string> {
  return {
    describe,
    parse(value) {
      if (typeof value !== 'string' || !ok(value)) throw new FormatError({ expected, value });
      return value;
    },
  };
}

function urlFormat(schemes: readonly string[]): FormatSpec<string> {
  const expected = `a URL with scheme ${orList(schemes)}`;
  return {
    describe: `URL (${schemes.join(', ')})`,
    parse(value) {
      if (typeof value !== 'string' || !URL.canParse(value)) throw new FormatError({ expected, value });
      const url = new URL(value);
      if (!schemes.includes(url.protocol.slice(0, -1)) || url.hostname === '') throw new FormatError({ expected, value });
      // URL accepts a bare '%' in user:password, but the clients decode it (mqtt.js: URIError at connect).
      try {
        decodeURIComponent(url.username);
        decodeURIComponent(url.password);
      } catch {
        const encoded = `${expected} whose user:password is percent-encoded (% as %25, @ as %40, : as %3A, / as %2F)`;
        throw new FormatError({ expected: encoded, value });
      }
      return value;
    },
  };
}

const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isQos(value: unknown): value is Qos {
  return value === 0 || value === 1 || value === 2;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseSubscription(sub: unknown, i: number): Subscription {
  if (!isPlainObject(sub)) throw new FormatError({ path: `[${i}]`, expected: 'an object {topic, qos}', value: sub });
  const unknown = Object.keys(sub).find((key) => key !== 'topic' && key !== 'qos');
  if (unknown !== undefined) {
    throw new FormatError({ path: `[${i}].${unknown}`, expected: 'one of topic, qos', value: sub[unknown], unknownKey: true });
  }
  const { topic, qos } = sub;
  if (typeof topic !== 'string') throw new FormatError({ path: `[${i}].topic`, expected: TOPIC_FILTER_EXPECTED, value: topic });
  const problem = subscriptionFilterProblem(topic);
  if (problem !== undefined) throw new FormatError({ path: `[${i}].topic`, expected: problem, value: topic });
  if (!isQos(qos)) throw new FormatError({ path: `[${i}].qos`, expected: 'one of 0, 1, 2', value: qos });
  return { topic, qos };
}

const subscriptions: FormatSpec<Subscription[]> = {
  describe: 'JSON array of `{topic, qos}`',
  // Env/CLI also accept the shorthand `sensors/#:1,alarms/+:2` (qos defaults to 1).
  coerce(raw) {
    if (raw.trim().startsWith('[')) return coerceJson(raw);
    return raw.split(',').map((item) => {
      const m = /^(.*?)(?::([0-2]))?$/.exec(item.trim())!;
      return { topic: m[1], qos: m[2] === undefined ? 1 : Number(m[2]) };
    });
  },
  parse(value) {
    if (!Array.isArray(value) || value.length === 0) throw new FormatError({ expected: 'a non-empty array of {topic, qos}', value });
    return value.map(parseSubscription);
  },
};

/** Every scalar format, by what the schema calls it: `format: F.positiveInt`. */
export const F = {
  string: stringFormat('string', 'a string', () => true),
  nonEmptyString: stringFormat('non-empty string', 'a non-empty string', (s) => s.trim() !== ''),
  boolean: {
    describe: 'boolean',
    coerce: coerceBoolean,
    parse(value) {
      if (typeof value !== 'boolean') throw new FormatError({ expected: 'a boolean (true or false)', value });
      return value;
    },
  } satisfies FormatSpec<boolean>,
  tcpPort: intFormat(0, 65535, 'port (0-65535)', 'a TCP port, an integer from 0 to 65535'),
  nonNegativeInt: intFormat(0, Number.MAX_SAFE_INTEGER, 'integer ≥ 0', 'an integer ≥ 0'),
  positiveInt: intFormat(1, Number.MAX_SAFE_INTEGER, 'integer ≥ 1', 'an integer ≥ 1'),
  mqttUrl: urlFormat(['mqtt', 'mqtts', 'ws', 'wss']),
  httpUrl: urlFormat(['http', 'https']),
  redisUrl: urlFormat(['redis', 'rediss']),
  gatewayId: stringFormat(
    'id: `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`',
    '1-64 characters of letters, digits, "_", "." or "-", starting with a letter or digit',
    (s) => GATEWAY_ID.test(s),
  ),
  logLevel: enumFormat(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  mqttProtocol: enumFormat([4, 5]),
  overflowPolicy: enumFormat(['dropOldest', 'block']),
  spoolType: enumFormat(['disk', 'memory']),
  receiveMaximum: intFormat(1, 65535, 'integer 1-65535', 'an integer from 1 to 65535'),
  ackMode: enumFormat(['write', 'fsync']),
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
  subscriptions,
};
