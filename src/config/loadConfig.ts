/**
 * Builds the effective Config. Sources, lowest precedence first:
 *   schema defaults < JSON config file (--config FILE or EDGEBRIDGE_CONFIG) < environment < CLI flags.
 * Secrets: env var > <ENV>_FILE > $CREDENTIALS_DIRECTORY/<credential> > config file > default.
 * argv and env are injected — nothing here reads process.* — so tests and `check-config` can load
 * any combination. argv may contain anything else (commands, the CLI's own flags): only our flags
 * are consumed.
 */
import { dirname, isAbsolute, join } from 'node:path';
import convict from 'convict';
import type { Config, LogLevel, MqttConfig, OverflowPolicy, SpoolType, AckMode, SinkConfig, Subscription } from './Config.ts';
import { checkEnvNames } from './checkEnvNames.ts';
import { checkRedisSink } from './checkRedisSink.ts';
import { ConfigError } from './ConfigError.ts';
import { FormatError } from './FormatError.ts';
import { parseExtraSinks, toSinkConfig } from './parseExtraSinks.ts';
import { parseRoutes } from './parseRoutes.ts';
import { readJsonFile } from './readJsonFile.ts';
import { readSecret } from './readSecret.ts';
import { scanArgv } from './scanArgv.ts';
import { REDACTED, redactValue } from './redactConfig.ts';
import {
  CONFIG_FILE_ENV,
  createSchema,
  credentialNameFor,
  ENV_PREFIX,
  FORMATS,
} from './schema.ts';
import { checkShape, checkValues, isPlainObject, leafAt, leaves, type SchemaTree } from './schemaTree.ts';
import { checkTlsConfig } from '../tls/checkTlsConfig.ts';
import { tlsKeyNaming } from '../tls/tlsKeyNaming.ts';
import type { TlsConfig } from '../tls/TlsConfig.ts';

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

interface ErrorContext {
  readonly schema: SchemaTree;
  readonly configFile: string | undefined;
  readonly routesFile: string | undefined;
}

/** The schema leaf a (possibly nested) key belongs to: `routes[2].format` → `routes`. */
function owningLeafKey(schema: SchemaTree, key: string): string | undefined {
  const parts = key.split('[')[0]!.split('.');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('.');
    if (leafAt(schema, candidate)) return candidate;
  }
  return undefined;
}

function toConfigError(err: FormatError, ctx: ErrorContext): ConfigError {
  const key = err.path;
  const leafKey = owningLeafKey(ctx.schema, key);
  const leaf = leafKey ? leafAt(ctx.schema, leafKey) : undefined;
  let fix: string;
  if (err.unknownKey && !leaf) {
    fix = `remove or rename it in ${ctx.configFile ?? 'the config file'}`;
  } else if (leafKey === 'routes' && ctx.routesFile) {
    fix = `fix it in the routes file ${ctx.routesFile}`;
  } else if (err.unknownKey) {
    fix = `remove or rename it in "${leafKey}" in ${ctx.configFile ?? 'the config file'}`;
  } else if (leaf?.env) {
    fix = `set ${leaf.env} or "${leafKey}" in the config file`;
  } else {
    fix = `set "${leafKey ?? key}" in the config file`;
  }
  const lastSegment = key.split(/[.[\]]/).filter(Boolean).at(-1) ?? '';
  return new ConfigError({
    key,
    ...(err.unknownKey
      ? { problem: 'unknown key' }
      : { value: err.sensitive || leaf?.sensitive ? REDACTED : redactValue(err.value, lastSegment) }),
    expected: err.expected,
    fix,
  });
}

function asConfigError(err: unknown, ctx: ErrorContext): unknown {
  return err instanceof FormatError ? toConfigError(err, ctx) : err;
}

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
function withExtraSecrets(sink: SinkConfig, index: number, env: Env, sources: Record<string, string>): SinkConfig {
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
  const leaf = leafAt(schema, lowKey);
  throw new ConfigError({
    key: lowKey,
    value: low,
    expected: `at most ${highKey} (${high})`,
    fix: leaf?.env ? `set ${leaf.env} or "${lowKey}" in the config file` : `set "${lowKey}" in the config file`,
  });
}

/**
 * Each spool record carries a 32-bit mask of the sinks it is for, and bit 31 is the sign bit in JavaScript's
 * bitwise operators (`1 << 31` < 0): 31 sinks is what the record format can address.
 */
export const MAX_SINKS = 31;

function buildSinks(
  props: Record<string, any>,
  env: Env,
  sources: Record<string, string>,
  schema: SchemaTree,
): SinkConfig[] {
  const sinks: SinkConfig[] = [];
  for (const type of ['influx', 'redis'] as const) {
    const p = props.sinks[type];
    if (p.enabled) sinks.push(toSinkConfig(type, type, p));
  }
  parseExtraSinks(props.sinks.extra).forEach(({ enabled, sink }, i) => {
    if (sinks.some((s) => s.name === sink.name) && (sink.name === 'influx' || sink.name === 'redis')) {
      throw new FormatError({
        path: `sinks.extra[${i}].name`,
        expected: `a name other than "${sink.name}", which the enabled sinks.${sink.name} already uses`,
        value: sink.name,
      });
    }
    if (enabled) sinks.push(withExtraSecrets(sink, i, env, sources));
  });
  if (sinks.length > MAX_SINKS) {
    throw new ConfigError({
      key: 'sinks.extra',
      value: `${sinks.length} enabled sinks`,
      expected: `at most ${MAX_SINKS} enabled sinks (sinks.influx, sinks.redis and sinks.extra together)`,
      fix: `disable or remove ${sinks.length - MAX_SINKS} of them (set "enabled": false)`,
    });
  }
  for (const s of sinks) {
    const at = s.name === 'influx' || s.name === 'redis' ? `sinks.${s.name}` : `sinks.extra[${(props.sinks.extra as { name: string }[]).findIndex((e) => e.name === s.name)}]`;
    checkOrder(`${at}.resilience.retryInitialMs`, s.resilience.retryInitialMs, `${at}.resilience.retryMaxMs`, s.resilience.retryMaxMs, schema);
    if (s.type === 'redis') checkRedisSink(at, s);
    checkTlsConfig(s.url, `${at}.url`, s.tls, tlsKeyNaming(`${at}.tls`));
  }
  return sinks;
}

function declaredSinkNames(props: Record<string, any>): string[] {
  return [
    ...(['influx', 'redis'] as const).filter((t) => props.sinks[t].enabled),
    ...(props.sinks.extra as { name: string }[]).map((e) => e.name),
  ];
}

export function loadConfigDetailed(opts: LoadConfigOptions): LoadedConfig {
  const schema = createSchema(opts.hostname);
  const scanned = scanArgv(opts.argv, schema);
  const envConfig = opts.env[CONFIG_FILE_ENV];
  const configFile = scanned.configFile ?? (envConfig !== undefined && envConfig !== '' ? envConfig : undefined);
  let routesFile: string | undefined;
  const ctx = (): ErrorContext => ({ schema, configFile, routesFile });
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
      if (fileValues !== undefined) checkShape(schema, fileValues, FORMATS);
    }

    const env = { ...opts.env, ...secretEnv(schema, opts.env, secretSources) };
    // Explicit env/args: convict would otherwise read process.env and process.argv.
    const conf = convict(schema as convict.Schema<Record<string, unknown>>, { env: env as NodeJS.ProcessEnv, args: [] });
    if (fileValues !== undefined) conf.load(fileValues as Record<string, unknown>); // re-applies env on top
    for (const [key, raw] of scanned.sets) conf.set(key, raw);

    const routesPath = conf.get('routesFile') as unknown;
    if (typeof routesPath === 'string' && routesPath !== '') {
      const fromFile = isPlainObject(fileValues) && fileValues.routesFile === routesPath &&
        !scanned.sets.some(([k]) => k === 'routesFile') && opts.env.EDGEBRIDGE_ROUTES_FILE === undefined;
      routesFile = fromFile && configFile && !isAbsolute(routesPath) ? join(dirname(configFile), routesPath) : routesPath;
      const routes = readJsonFile(routesFile, 'routes file', 'routesFile', 'fix the file or set EDGEBRIDGE_ROUTES_FILE / "routesFile"');
      if (!Array.isArray(routes)) {
        throw new ConfigError({
          key: 'routesFile',
          value: routesFile,
          subject: `routes file "${routesFile}"`,
          problem: 'does not hold a JSON array',
          expected: 'a JSON array of routes',
          fix: 'make the file\'s top level [ {route}, … ]',
        });
      }
      conf.set('routes', routes);
    }

    const props = conf.getProperties() as Record<string, any>;
    checkValues(schema, props, FORMATS);
    conf.validate({ allowed: 'strict', output: () => {} }); // belt and braces: convict's own view

    const gatewayId = props.gatewayId as string;
    const m = props.mqtt as Record<string, unknown>;
    const mqtt: MqttConfig = {
      url: m.url as string,
      username: m.username as string,
      password: m.password as string,
      clientId: (m.clientId as string) || `edgebridge-${gatewayId}`,
      clean: m.clean as boolean,
      protocolVersion: m.protocolVersion as 4 | 5,
      keepalive: m.keepalive as number,
      connectTimeoutMs: m.connectTimeoutMs as number,
      sessionExpirySec: m.sessionExpirySec as number,
      receiveMaximum: m.receiveMaximum as number,
      reconnectMinMs: m.reconnectMinMs as number,
      reconnectMaxMs: m.reconnectMaxMs as number,
      subscriptions: m.subscriptions as Subscription[],
      statusTopic: (m.statusTopic as string).replaceAll('{gatewayId}', gatewayId),
      deadLetterTopic: (m.deadLetterTopic as string).replaceAll('{gatewayId}', gatewayId),
      maxPayloadBytes: m.maxPayloadBytes as number,
      tls: m.tls as TlsConfig,
    };
    checkOrder('mqtt.reconnectMinMs', mqtt.reconnectMinMs, 'mqtt.reconnectMaxMs', mqtt.reconnectMaxMs, schema);
    checkTlsConfig(mqtt.url, 'mqtt.url', mqtt.tls, tlsKeyNaming('mqtt.tls'));

    const sinks = buildSinks(props, opts.env, secretSources, schema);
    const routes = parseRoutes(props.routes);
    const enabled = sinks.map((s) => s.name);
    const declared = declaredSinkNames(props);
    routes.forEach((route, i) => {
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

    const extras = props.sinks.extra as { name: string; type: string }[];
    const extraEnv = extras.flatMap((e) => {
      const name = extraSinkSecretEnvName(e.name, e.type === 'influx' ? 'token' : 'password');
      return [name, `${name}_FILE`];
    });
    checkEnvNames(opts.env, { prefix: ENV_PREFIX, schema, extra: [CONFIG_FILE_ENV, ...extraEnv] });

    const config: Config = {
      gatewayId,
      gatewayTag: props.gatewayTag as boolean,
      log: { level: props.log.level as LogLevel, collapseIntervalMs: props.log.collapseIntervalMs as number },
      mqtt,
      routes,
      sinks,
      spool: {
        type: props.spool.type as SpoolType,
        dir: props.spool.dir as string,
        maxBytes: props.spool.maxBytes as number,
        overflow: props.spool.overflow as OverflowPolicy,
        ack: props.spool.ack as AckMode,
        fsyncIntervalMs: props.spool.fsyncIntervalMs as number,
        segmentBytes: props.spool.segmentBytes as number,
        checkpointIntervalMs: props.spool.checkpointIntervalMs as number,
      },
      http: { host: props.http.host as string, port: props.http.port as number, token: props.http.token as string },
      shutdown: { timeoutMs: props.shutdown.timeoutMs as number },
    };
    return { config, configFile, routesFile, secretSources };
  } catch (err) {
    throw asConfigError(err, ctx());
  }
}

/** The effective configuration; throws ConfigError (exit with CONFIG_EXIT_CODE). */
export function loadConfig(opts: LoadConfigOptions): Config {
  return loadConfigDetailed(opts).config;
}
