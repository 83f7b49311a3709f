/**
 * The scalar config formats, registered with convict by name. We use our own named formats rather
 * than convict's built-ins because (1) their coercion of env/CLI strings is lax (`parseInt("80x")`
 * is 80, any boolean other than "false" is true) and (2) their errors carry no structure. A string
 * our coercer cannot parse is left as is, so the error shows exactly what the operator typed.
 */
import convict from 'convict';
import { FormatError } from './FormatError.ts';
import { parseSharedFilter, SHARE_PREFIX, SHARED_FILTER_EXPECTED } from '../topic/SharedFilter.ts';
import type { Qos } from './Config.ts';

export interface FormatSpec {
  /** Throws FormatError. */
  readonly validate: (value: unknown) => void;
  /** Turns an env var / CLI flag string into the value's type; leaves unparsable input alone. */
  readonly coerce?: (raw: string) => unknown;
  /** For the reference table. */
  readonly describe: string;
}

const INTEGER = /^\s*-?\d+\s*$/;

function coerceInt(raw: string): unknown {
  return INTEGER.test(raw) ? Number(raw) : raw;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerceBoolean(raw: string): unknown {
  const s = raw.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return raw;
}

/** Lists and objects arrive from env/CLI as JSON; bad JSON stays a string and fails validation. */
function coerceJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function intFormat(min: number, max: number, describe: string, expected: string): FormatSpec {
  return {
    describe,
    coerce: coerceInt,
    validate(value) {
      if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
        throw new FormatError({ expected, value });
      }
    },
  };
}

/** Human list: `a, b or c`. */
export function orList(items: readonly (string | number)[]): string {
  const s = items.map(String);
  return s.length <= 1 ? s.join('') : `${s.slice(0, -1).join(', ')} or ${s.at(-1)}`;
}

export function enumFormat<T extends string | number>(values: readonly T[]): FormatSpec {
  const expected = `one of ${values.join(', ')}`;
  const numeric = values.every((v) => typeof v === 'number');
  return {
    describe: values.join(' | '),
    ...(numeric ? { coerce: coerceInt } : {}),
    validate(value) {
      if (!values.includes(value as T)) throw new FormatError({ expected, value });
    },
  };
}

function urlFormat(schemes: readonly string[]): FormatSpec {
  const expected = `a URL with scheme ${orList(schemes)}`;
  return {
    describe: `URL (${schemes.join(', ')})`,
    validate(value) {
      if (typeof value !== 'string') throw new FormatError({ expected, value });
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new FormatError({ expected, value });
      }
      if (!schemes.includes(url.protocol.slice(0, -1)) || url.hostname === '') {
        throw new FormatError({ expected, value });
      }
      // URL accepts a bare '%' in user:password, but the clients decode it (mqtt.js: URIError at connect).
      try {
        decodeURIComponent(url.username);
        decodeURIComponent(url.password);
      } catch {
        throw new FormatError({ expected: `${expected} whose user:password is percent-encoded (% as %25, @ as %40, : as %3A, / as %2F)`, value });
      }
    },
  };
}

const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** MQTT topic filter: `+` and `#` only as whole levels, `#` only last. */
export function isTopicFilter(topic: string): boolean {
  if (topic === '' || topic.includes('\u0000')) return false;
  const levels = topic.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

export function isQos(value: unknown): value is Qos {
  return value === 0 || value === 1 || value === 2;
}

const TOPIC_FILTER_EXPECTED = 'an MQTT topic filter (`+`/`#` only as whole levels, `#` last)';

const subscriptions: FormatSpec = {
  describe: 'JSON array of `{topic, qos}`',
  // Env/CLI also accept the shorthand `sensors/#:1,alarms/+:2` (qos defaults to 1).
  coerce(raw) {
    if (raw.trim().startsWith('[')) return coerceJson(raw);
    return raw.split(',').map((item) => {
      const m = /^(.*?)(?::([0-2]))?$/.exec(item.trim())!;
      return { topic: m[1], qos: m[2] === undefined ? 1 : Number(m[2]) };
    });
  },
  validate(value) {
    if (!Array.isArray(value) || value.length === 0) {
      throw new FormatError({ expected: 'a non-empty array of {topic, qos}', value });
    }
    value.forEach((sub: unknown, i) => {
      if (typeof sub !== 'object' || sub === null || Array.isArray(sub)) {
        throw new FormatError({ path: `[${i}]`, expected: 'an object {topic, qos}', value: sub });
      }
      const s = sub as Record<string, unknown>;
      for (const key of Object.keys(s)) {
        if (key !== 'topic' && key !== 'qos') {
          throw new FormatError({ path: `[${i}].${key}`, expected: 'one of topic, qos', value: s[key], unknownKey: true });
        }
      }
      if (typeof s.topic !== 'string') {
        throw new FormatError({ path: `[${i}].topic`, expected: TOPIC_FILTER_EXPECTED, value: s.topic });
      }
      let shared;
      try {
        shared = parseSharedFilter(s.topic);
      } catch (error) {
        throw new FormatError({
          path: `[${i}].topic`,
          expected: `a shared subscription ${SHARED_FILTER_EXPECTED} (here ${(error as Error).message})`,
          value: s.topic,
        });
      }
      if (!isTopicFilter(shared.filter)) {
        throw new FormatError({
          path: `[${i}].topic`,
          expected: shared.group === undefined ? TOPIC_FILTER_EXPECTED : `${SHARE_PREFIX}${shared.group}/ followed by ${TOPIC_FILTER_EXPECTED}`,
          value: s.topic,
        });
      }
      if (!isQos(s.qos)) throw new FormatError({ path: `[${i}].qos`, expected: 'one of 0, 1, 2', value: s.qos });
    });
  },
};

export const SCALAR_FORMATS = {
  string: {
    describe: 'string',
    validate(value) {
      if (typeof value !== 'string') throw new FormatError({ expected: 'a string', value });
    },
  },
  'non-empty-string': {
    describe: 'non-empty string',
    validate(value) {
      if (typeof value !== 'string' || value.trim() === '') {
        throw new FormatError({ expected: 'a non-empty string', value });
      }
    },
  },
  boolean: {
    describe: 'boolean',
    coerce: coerceBoolean,
    validate(value) {
      if (typeof value !== 'boolean') throw new FormatError({ expected: 'a boolean (true or false)', value });
    },
  },
  'tcp-port': intFormat(0, 65535, 'port (0-65535)', 'a TCP port, an integer from 0 to 65535'),
  'non-negative-int': intFormat(0, Number.MAX_SAFE_INTEGER, 'integer ≥ 0', 'an integer ≥ 0'),
  'positive-int': intFormat(1, Number.MAX_SAFE_INTEGER, 'integer ≥ 1', 'an integer ≥ 1'),
  'mqtt-url': urlFormat(['mqtt', 'mqtts', 'ws', 'wss']),
  'http-url': urlFormat(['http', 'https']),
  'redis-url': urlFormat(['redis', 'rediss']),
  'gateway-id': {
    describe: 'id: `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`',
    validate(value) {
      if (typeof value !== 'string' || !GATEWAY_ID.test(value)) {
        throw new FormatError({
          expected: '1-64 characters of letters, digits, "_", "." or "-", starting with a letter or digit',
          value,
        });
      }
    },
  },
  'log-level': enumFormat(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  'mqtt-protocol': enumFormat([4, 5]),
  'overflow-policy': enumFormat(['dropOldest', 'block']),
  'spool-type': enumFormat(['disk', 'memory']),
  'receive-maximum': intFormat(1, 65535, 'integer 1-65535', 'an integer from 1 to 65535'),
  'ack-mode': enumFormat(['write', 'fsync']),
  'status-topic': {
    describe: 'MQTT topic without wildcards, or empty',
    validate(value) {
      if (typeof value !== 'string' || value.includes('+') || value.includes('#') || value.includes('\u0000')) {
        throw new FormatError({ expected: 'an MQTT topic without + or # wildcards, or "" to disable', value });
      }
    },
  },
  'mqtt-client-id': {
    describe: 'string (empty = derived)',
    validate(value) {
      if (typeof value !== 'string' || /[\s+#/]/.test(value)) {
        throw new FormatError({ expected: 'a client id without spaces, "/", "+" or "#" ("" = edgebridge-<gatewayId>)', value });
      }
    },
  },
  subscriptions,
} satisfies Record<string, FormatSpec>;

export type ScalarFormatName = keyof typeof SCALAR_FORMATS;

/** Hands a set of formats to convict (global registry — convict has no other kind). */
export function registerFormats(formats: Readonly<Record<string, FormatSpec>>): void {
  for (const [name, spec] of Object.entries(formats)) {
    const coerce = spec.coerce;
    convict.addFormat({
      name,
      validate: spec.validate,
      ...(coerce ? { coerce: (v: unknown) => (typeof v === 'string' ? coerce(v) : v) } : {}),
    });
  }
}

registerFormats(SCALAR_FORMATS);

export { coerceJson };
