/**
 * Builds the effective Config. Sources, lowest precedence first:
 *   schema defaults < JSON config file (--config FILE or EDGEBRIDGE_CONFIG) < environment < CLI flags.
 * Secrets: env var > <ENV>_FILE > $CREDENTIALS_DIRECTORY/<credential> > config file > default.
 * convict merges the sources; parseTree parses the merged values once (schemaTree.ts); resolve() then turns them
 * into what the gateway runs on: one list of sinks, TLS files read, derived defaults filled in. Every FormatError
 * becomes the exit-78 ConfigError in one place, toConfigError.ts. argv and env are injected — nothing here reads
 * process.* — so tests and `check-config` can load any combination. argv may contain anything else (commands,
 * the CLI's own flags): only our flags are consumed.
 */
import { dirname, isAbsolute, join } from 'node:path';
import convict from 'convict';
import type { Config, ConfigValues, SinkConfig } from './Config.ts';
import { checkEnvNames } from './checkEnvNames.ts';
import { checkRedisSink } from './checkRedisSink.ts';
import { ConfigError } from '../errors/ConfigError.ts';
import { FormatError } from './FormatError.ts';
import type { ExtraSink } from './parseExtraSinks.ts';
import { readJsonFile } from './readJsonFile.ts';
import { readSecret } from './readSecret.ts';
import { scanArgv } from './scanArgv.ts';
import { CONFIG_FILE_ENV, createSchema, credentialNameFor, ENV_PREFIX, type Schema } from './schema.ts';
import { checkShape, isLeaf, leafAt, leaves, parseTree, type SchemaTree } from './schemaTree.ts';
import { toConfigError } from './toConfigError.ts';
import { isPlainObject } from './formats.ts';
import { resolveTls } from '../tls/resolveTls.ts';
import { sinkTlsPath, tlsKeyNaming } from './tlsKeyNaming.ts';

export interface LoadConfigOptions {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Source of the default gatewayId; defaults to os.hostname(). */
  readonly hostname?: string;
}

export interface LoadedConfig {
  readonly config: Config;
  /** The JSON config file read, if any. */
  readonly configFile: string | undefined;
  /** The routes file read, if any (resolved path). */
  readonly routesFile: string | undefined;
  /** Config key → where its secret came from (`EDGEBRIDGE_MQTT_PASSWORD_FILE=/run/…`); never values. */
  readonly secretSources: Readonly<Record<string, string>>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Secrets of the default sinks / MQTT from _FILE and credentials, as if set in the env. */
function secretEnv(schema: SchemaTree, env: Env, sources: Record<string, string>): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [key, leaf] of leaves(schema)) {
    if (!leaf.sensitive || !leaf.env) continue;
    const secret = readSecret({ key, envName: leaf.env, credentialName: credentialNameFor(leaf.env) }, env);
    if (secret) {
      found[leaf.env] = secret.value;
      sources[key] = secret.source;
    }
  }
  return found;
}

/** `cloud-eu` → `EDGEBRIDGE_SINK_CLOUD_EU_TOKEN`, credential `sink_cloud_eu_token`. */
export function extraSinkSecretEnvName(sinkName: string, secretKey: 'token' | 'password'): string {
  return `${ENV_PREFIX}SINK_${sinkName.toUpperCase().replace(/-/g, '_')}_${secretKey.toUpperCase()}`;
}

/** Extra sinks' secrets from env / _FILE / credentials, above the config file's value. */
function withExtraSecret(sink: ExtraSink, index: number, env: Env, sources: Record<string, string>): ExtraSink {
  const secretKey = sink.type === 'influx' ? 'token' : 'password';
  const envName = extraSinkSecretEnvName(sink.name, secretKey);
  const key = `sinks.extra[${index}].${secretKey}`;
  const secret = readSecret({ key, envName, credentialName: credentialNameFor(envName) }, env);
  if (!secret) return sink;
  sources[key] = secret.source;
  return sink.type === 'influx' ? { ...sink, token: secret.value } : { ...sink, password: secret.value };
}

function checkOrder(lowKey: string, low: number, highKey: string, high: number, schema: SchemaTree): void {
  if (low <= high) return;
  const env = leafAt(schema, lowKey)?.env;
  const fix = env ? `set ${env} or "${lowKey}" in the config file` : `set "${lowKey}" in the config file`;
  throw new FormatError({ path: lowKey, value: low, expected: `at most ${highKey} (${high})`, fix });
}

/**
 * Each spool record carries a 32-bit mask of the sinks it is for, and bit 31 is the sign bit in JavaScript's
 * bitwise operators (`1 << 31` < 0): 31 sinks is what the record format can address.
 */
export const MAX_SINKS = 31;

/** The sinks list: `influx`, `redis` (if enabled), then the enabled extras; each checked across its keys. */
function resolveSinks(values: ConfigValues['sinks'], env: Env, sources: Record<string, string>, schema: SchemaTree): SinkConfig[] {
  const listed: [string, ExtraSink][] = [];
  const { influx, redis, extra } = values;
  if (influx.enabled) listed.push(['sinks.influx', { name: 'influx', type: 'influx', ...influx }]);
  if (redis.enabled) listed.push(['sinks.redis', { name: 'redis', type: 'redis', ...redis }]);
  extra.forEach((sink, i) => {
    if (listed.some(([, s]) => s.name === sink.name)) {
      throw new FormatError({
        path: `sinks.extra[${i}].name`,
        expected: `a name other than "${sink.name}", which the enabled sinks.${sink.name} already uses`,
        value: sink.name,
      });
    }
    if (sink.enabled) listed.push([`sinks.extra[${i}]`, withExtraSecret(sink, i, env, sources)]);
  });
  if (listed.length > MAX_SINKS) {
    throw new ConfigError({
      key: 'sinks.extra',
      value: `${listed.length} enabled sinks`,
      expected: `at most ${MAX_SINKS} enabled sinks (sinks.influx, sinks.redis and sinks.extra together)`,
      fix: `disable or remove ${listed.length - MAX_SINKS} of them (set "enabled": false)`,
    });
  }
  return listed.map(([at, { enabled: _enabled, ...s }]) => {
    const { retryInitialMs, retryMaxMs } = s.resilience;
    checkOrder(`${at}.resilience.retryInitialMs`, retryInitialMs, `${at}.resilience.retryMaxMs`, retryMaxMs, schema);
    if (s.type === 'redis') checkRedisSink(at, s);
    const tls = resolveTls(s.url, `${at}.url`, s.tls, sinkTlsPath(s.name, s.type), tlsKeyNaming(`${at}.tls`));
    return { ...s, tls };
  });
}

function resolve(values: ConfigValues, env: Env, sources: Record<string, string>, schema: SchemaTree): Config {
  const { routesFile: _routesFile, ...rest } = values;
  const { gatewayId, mqtt: m } = values;
  checkOrder('mqtt.reconnectMinMs', m.reconnectMinMs, 'mqtt.reconnectMaxMs', m.reconnectMaxMs, schema);
  const mqtt = {
    ...m,
    clientId: m.clientId || `edgebridge-${gatewayId}`,
    statusTopic: m.statusTopic.replaceAll('{gatewayId}', gatewayId),
    deadLetterTopic: m.deadLetterTopic.replaceAll('{gatewayId}', gatewayId),
    tls: resolveTls(m.url, 'mqtt.url', m.tls, 'mqtt.tls', tlsKeyNaming('mqtt.tls')),
  };
  const sinks = resolveSinks(values.sinks, env, sources, schema);
  const enabled = sinks.map((s) => s.name);
  const declared = [...(['influx', 'redis'] as const).filter((t) => values.sinks[t].enabled), ...values.sinks.extra.map((e) => e.name)];
  values.routes.forEach((route, i) => {
    route.sinks.forEach((name, j) => {
      if (!enabled.includes(name)) {
        throw new FormatError({
          path: `routes[${i}].sinks[${j}]`,
          expected: `the name of an enabled sink (${enabled.join(', ') || 'none enabled'})${declared.includes(name) || name === 'influx' || name === 'redis' ? `; "${name}" is disabled` : ''}`,
          value: name,
        });
      }
    });
  });
  return { ...rest, mqtt, sinks };
}

/** What convict takes: our leaves with the format left to us (`*`: convict neither coerces nor checks). */
function convictSchema(tree: SchemaTree): convict.Schema<Record<string, unknown>> {
  const out: convict.Schema<Record<string, unknown>> = {};
  for (const [key, node] of Object.entries(tree)) {
    if (!isLeaf(node)) {
      out[key] = convictSchema(node);
      continue;
    }
    const { doc, env, arg, sensitive = false } = node;
    out[key] = { doc, default: node.default, format: '*', sensitive, ...(env ? { env } : {}), ...(arg ? { arg } : {}) };
  }
  return out;
}

export function loadConfigDetailed(opts: LoadConfigOptions): LoadedConfig {
  const schema: Schema = createSchema(opts.hostname);
  const scanned = scanArgv(opts.argv, schema);
  const envConfig = opts.env[CONFIG_FILE_ENV];
  const configFile = scanned.configFile ?? (envConfig !== undefined && envConfig !== '' ? envConfig : undefined);
  let routesFile: string | undefined;
  const secretSources: Record<string, string> = {};

  try {
    let fileValues: unknown;
    if (configFile !== undefined) {
      fileValues = readJsonFile(configFile, 'config file', 'config', `check --config / ${CONFIG_FILE_ENV}`);
      if (fileValues !== undefined && !isPlainObject(fileValues)) {
        throw new ConfigError({
          key: 'config',
          value: configFile,
          subject: `config file "${configFile}"`,
          problem: 'does not hold a JSON object',
          expected: 'a JSON object of config keys',
          fix: 'wrap the settings in { … }',
        });
      }
      if (fileValues !== undefined) checkShape(schema, fileValues);
    }

    const env = { ...opts.env, ...secretEnv(schema, opts.env, secretSources) };
    // Explicit env/args: convict would otherwise read process.env and process.argv.
    const conf = convict(convictSchema(schema), { env: env as NodeJS.ProcessEnv, args: [] });
    if (isPlainObject(fileValues)) conf.load(fileValues); // re-applies env on top
    for (const [key, raw] of scanned.sets) conf.set(key, raw);

    const routesPath: unknown = conf.get('routesFile');
    if (typeof routesPath === 'string' && routesPath !== '') {
      const fromFile =
        isPlainObject(fileValues) &&
        fileValues.routesFile === routesPath &&
        !scanned.sets.some(([k]) => k === 'routesFile') &&
        opts.env.EDGEBRIDGE_ROUTES_FILE === undefined;
      routesFile = fromFile && configFile && !isAbsolute(routesPath) ? join(dirname(configFile), routesPath) : routesPath;
      const routes = readJsonFile(routesFile, 'routes file', 'routesFile', 'fix the file or set EDGEBRIDGE_ROUTES_FILE / "routesFile"');
      if (!Array.isArray(routes)) {
        throw new ConfigError({
          key: 'routesFile',
          value: routesFile,
          subject: `routes file "${routesFile}"`,
          problem: 'does not hold a JSON array',
          expected: 'a JSON array of routes',
          fix: "make the file's top level [ {route}, … ]",
        });
      }
      conf.set('routes', routes);
    }

    const values = parseTree(schema, conf.getProperties());
    const config = resolve(values, opts.env, secretSources, schema);
    const extraEnv = values.sinks.extra.flatMap((e) => {
      const name = extraSinkSecretEnvName(e.name, e.type === 'influx' ? 'token' : 'password');
      return [name, `${name}_FILE`];
    });
    checkEnvNames(opts.env, { prefix: ENV_PREFIX, schema, extra: [CONFIG_FILE_ENV, ...extraEnv] });
    return { config, configFile, routesFile, secretSources };
  } catch (err) {
    throw err instanceof FormatError ? toConfigError(err, { schema, configFile, routesFile }) : err;
  }
}

/** The effective configuration; throws ConfigError (exit with CONFIG_EXIT_CODE). */
export function loadConfig(opts: LoadConfigOptions): Config {
  return loadConfigDetailed(opts).config;
}
