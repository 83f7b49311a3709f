/**
 * `sinks.extra`: additional sinks, each `{name, type, ...keys of that type}`. Each element is parsed with the
 * schema of its type by the same walk as the rest of the config (parseTree: defaults, coercion, undeclared keys
 * refused), so an extra sink gets exactly the defaults and checks of `sinks.influx`/`sinks.redis`.
 */
import { FormatError } from './FormatError.ts';
import { coerceJson, enumFormat, isPlainObject, type FormatSpec } from './formats.ts';
import { parseTree, type ConfigOf } from './schemaTree.ts';
import { influxSinkSchema, redisSinkSchema } from './sinkSchema.ts';

export const SINK_NAME = /^[a-z][a-z0-9_-]*$/;

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
  name: { doc: 'Unique sink name, addressed by routes[].sinks.', default: '', format: sinkName },
  type: { doc: 'Sink type.', default: type, format: enumFormat([type]) },
  ...schema,
});
const influxElement = () => element('influx', influxSinkSchema());
const redisElement = () => element('redis', redisSinkSchema());

/** One element as configured (TLS paths not yet read): `enabled` and the keys of its type. */
export type ExtraSink = ConfigOf<ReturnType<typeof influxElement>> | ConfigOf<ReturnType<typeof redisElement>>;

function parseElement(raw: unknown, at: string): ExtraSink {
  if (!isPlainObject(raw)) throw new FormatError({ path: at, expected: 'a sink object {name, type, ...}', value: raw });
  if (raw.type === 'influx') return parseTree(influxElement(), raw, at);
  if (raw.type === 'redis') return parseTree(redisElement(), raw, at);
  throw new FormatError({ path: `${at}.type`, expected: 'one of influx, redis', value: raw.type });
}

/** Throws FormatError with a path like `[1].url`. */
export function parseExtraSinks(value: unknown): ExtraSink[] {
  if (!Array.isArray(value)) throw new FormatError({ expected: 'an array of sink objects', value });
  const sinks = value.map((raw, i) => parseElement(raw, `[${i}]`));
  sinks.forEach((sink, i) => {
    const first = sinks.findIndex((s) => s.name === sink.name);
    if (first !== i) {
      const expected = `a sink name not already used (sinks.extra[${first}] is also "${sink.name}")`;
      throw new FormatError({ path: `[${i}].name`, expected, value: sink.name });
    }
  });
  return sinks;
}

export const extraSinksFormat: FormatSpec<ExtraSink[]> = {
  describe: 'JSON array of sink objects',
  coerce: coerceJson,
  parse: parseExtraSinks,
};
