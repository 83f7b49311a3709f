/**
 * `sinks.extra`: additional sinks, each `{name, type, ...keys of that type}`. Each element is
 * merged and validated by its own convict instance of the sink schema (strict: undeclared keys
 * are errors), so an extra sink gets exactly the defaults and checks of `sinks.influx`/`sinks.redis`.
 */
import convict from 'convict';
import type { BatchConfig, RedisMode, ResilienceConfig, ResolvedTls, SinkConfig } from './Config.ts';
import { FormatError } from './FormatError.ts';
import { coerceJson, enumFormat, registerFormats, SCALAR_FORMATS, type FormatSpec } from './formats.ts';
import { parseHostPort, REDIS_FORMATS } from './redisFormats.ts';
import { checkShape, checkValues, isPlainObject, type SchemaTree } from './schemaTree.ts';
import { SINK_TYPES, sinkSchema, type SinkType } from './sinkSchema.ts';

export const SINK_NAME = /^[a-z][a-z0-9_-]*$/;

const ELEMENT_FORMATS = {
  ...SCALAR_FORMATS,
  ...REDIS_FORMATS,
  'sink-name': {
    describe: 'sink name',
    validate(value: unknown) {
      if (typeof value !== 'string' || !SINK_NAME.test(value)) {
        throw new FormatError({ expected: 'a sink name matching /^[a-z][a-z0-9_-]*$/ (required)', value });
      }
    },
  },
  'sink-type': enumFormat(SINK_TYPES),
} satisfies Record<string, FormatSpec>;

registerFormats({ 'sink-name': ELEMENT_FORMATS['sink-name'], 'sink-type': ELEMENT_FORMATS['sink-type'] });

function elementSchema(type: SinkType): SchemaTree {
  return {
    name: { doc: 'Unique sink name, addressed by routes[].sinks.', default: '', format: 'sink-name' },
    type: { doc: 'Sink type.', default: type, format: 'sink-type' },
    ...sinkSchema(type),
  };
}

export interface ExtraSink {
  readonly enabled: boolean;
  readonly sink: SinkConfig;
}

/** Builds the contract's SinkConfig from a validated, merged sink object. */
export function toSinkConfig(name: string, type: SinkType, p: Record<string, unknown>): SinkConfig {
  const batch = p.batch as BatchConfig;
  const resilience = p.resilience as ResilienceConfig;
  if (type === 'influx') {
    return {
      name,
      type,
      url: p.url as string,
      token: p.token as string,
      org: p.org as string,
      bucket: p.bucket as string,
      gzip: p.gzip as boolean,
      tls: p.tls as ResolvedTls, // resolved by the loader (intermediate step)
      batch,
      resilience,
    };
  }
  return {
    name,
    type,
    url: p.url as string,
    username: p.username as string,
    password: p.password as string,
    keyPrefix: p.keyPrefix as string,
    deviceTag: p.deviceTag as string,
    latest: p.latest as boolean,
    streams: p.streams as boolean,
    streamMaxLen: p.streamMaxLen as number,
    mode: p.mode as RedisMode,
    sentinels: (p.sentinels as string[]).map((a) => parseHostPort(a)!),
    sentinelName: p.sentinelName as string,
    sentinelUsername: p.sentinelUsername as string,
    sentinelPassword: p.sentinelPassword as string,
    clusterNodes: (p.clusterNodes as string[]).map((a) => parseHostPort(a)!),
    tls: p.tls as ResolvedTls, // resolved by the loader (intermediate step)
    waitReplicas: p.waitReplicas as number,
    waitTimeoutMs: p.waitTimeoutMs as number,
    batch,
    resilience,
  };
}

function parseElement(raw: unknown, at: string): ExtraSink {
  if (!isPlainObject(raw)) {
    throw new FormatError({ path: at, expected: 'a sink object {name, type, ...}', value: raw });
  }
  if (!SINK_TYPES.includes(raw.type as SinkType)) {
    throw new FormatError({ path: `${at}.type`, expected: `one of ${SINK_TYPES.join(', ')}`, value: raw.type });
  }
  const type = raw.type as SinkType;
  const tree = elementSchema(type);
  checkShape(tree, raw, ELEMENT_FORMATS, at);
  // Never let a nested instance look at the process's env or argv.
  const instance = convict(tree as convict.Schema<Record<string, unknown>>, { env: {}, args: [] });
  instance.load(raw);
  const merged = instance.getProperties();
  checkValues(tree, merged, ELEMENT_FORMATS, at);
  instance.validate({ allowed: 'strict', output: () => {} });
  return { enabled: merged.enabled as boolean, sink: toSinkConfig(merged.name as string, type, merged) };
}

/** Throws FormatError with a path like `[1].url`. */
export function parseExtraSinks(value: unknown): ExtraSink[] {
  if (!Array.isArray(value)) throw new FormatError({ expected: 'an array of sink objects', value });
  const sinks = value.map((raw, i) => parseElement(raw, `[${i}]`));
  sinks.forEach(({ sink }, i) => {
    const first = sinks.findIndex((s) => s.sink.name === sink.name);
    if (first !== i) {
      throw new FormatError({
        path: `[${i}].name`,
        expected: `a sink name not already used (sinks.extra[${first}] is also "${sink.name}")`,
        value: sink.name,
      });
    }
  });
  return sinks;
}

export const extraSinksFormat: FormatSpec = {
  describe: 'JSON array of sink objects',
  coerce: coerceJson,
  validate(value) {
    parseExtraSinks(value);
  },
};
