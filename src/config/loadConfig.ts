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
import fs from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import convict from 'convict';
import { ConfigError } from '../errors/ConfigError.ts';
import { FormatError } from '../errors/FormatError.ts';
import { resolveTls } from '../tls/resolveTls.ts';
import type { Config, ConfigValues, RedisSinkConfig, SinkConfig } from './Config.ts';
import { checkEnvNames } from './checkEnvNames.ts';
import { checkHostId } from './checkHostId.ts';
import { isPlainObject } from './formats.ts';
import { readJsonFile } from './readJsonFile.ts';
import { readSecret } from './readSecret.ts';
import { scanArgv } from './scanArgv.ts';
import { CONFIG_FILE_ENV, createSchema, ENV_PREFIX, extraSinkSecretEnvName, howToSet, type Schema } from './schema.ts';
import { checkShape, isLeaf, leaves, parseTree, type SchemaTree } from './schemaTree.ts';
import type { ExtraSink } from './sinkSchema.ts';
import { toConfigError } from './toConfigError.ts';

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

/**
 * Each spool record carries a 32-bit mask of the sinks it is for, and bit 31 is the sign bit in JavaScript's
 * bitwise operators (`1 << 31` < 0): 31 sinks is what the record format can address.
 */
export const MAX_SINKS = 31;

/** A secret from env / `_FILE` / credentials, its source recorded for check-config (never the value). */
function secret(key: string, envName: string, env: Env, sources: Record<string, string>): string | undefined {
  const found = readSecret(key, envName, env);
  if (found) sources[key] = found.source;
  return found?.value;
}

/**
 * Connections fsync acknowledges over when `mqtt.connections` is `auto`: measured, see docs/durability.md (8 gave
 * 9 027 msg/s on a quiet machine, 16 gave 11 208; the rate follows the messages per fdatasync).
 */
export const AUTO_FSYNC_CONNECTIONS = 16;

/**
 * `mqtt.connections`: auto is 1 unless spool.ack=fsync (one connection already reaches the bare client's rate with
 * ack=write; more would only split a device's messages over connections). Sparkplug needs each node's messages in
 * order (seq numbers, births before data), which a split over connections cannot keep: more than one is refused.
 */
function connectionCount(values: ConfigValues, clientId: string): number {
  const sparkplug = values.routes.some((r) => r.format === 'sparkplug');
  const asked = values.mqtt.connections;
  if (asked === 'auto') {
    if (values.spool.ack !== 'fsync' || sparkplug || holdsSingleSession(values, clientId)) return 1;
    return AUTO_FSYNC_CONNECTIONS;
  }
  if (asked > 1 && sparkplug) {
    throw new FormatError({
      path: 'mqtt.connections',
      value: asked,
      expected: "1 (or auto) when a route has format sparkplug: a node's messages must arrive in order on one connection",
      fix: howToSet('mqtt.connections'),
    });
  }
  return asked;
}

/**
 * Whether an earlier run of this gateway confirmed a persistent session on one connection (`mqtt-session.json` in
 * the spool directory, same client id). `auto` then stays 1: moving to shared subscriptions under new client ids
 * would strand that session at the broker, with what it queued while the gateway was stopped. An explicit
 * `mqtt.connections` is the operator's choice (the gateway warns about the old session at start).
 */
function holdsSingleSession(values: ConfigValues, clientId: string): boolean {
  if (values.spool.type !== 'disk') return false;
  try {
    const record: unknown = JSON.parse(fs.readFileSync(join(values.spool.dir, 'mqtt-session.json'), 'utf8'));
    return isPlainObject(record) && record.persistent === true && record.clientId === clientId;
  } catch {
    return false; // no marker (a new installation, a memory spool) or an unreadable one
  }
}

function checkOrder(lowKey: string, low: number, highKey: string, high: number): void {
  if (low > high) throw new FormatError({ path: lowKey, value: low, expected: `at most ${highKey} (${high})`, fix: howToSet(lowKey) });
}

/** Checks of one Redis sink that span several keys: a wrong setup fails at start, not as endless connection errors. */
function checkRedisSink(at: string, sink: Pick<RedisSinkConfig, 'mode' | 'sentinels' | 'waitReplicas' | 'waitTimeoutMs' | 'resilience'>) {
  if (sink.mode === 'sentinel' && sink.sentinels.length === 0) {
    throw new FormatError({ path: `${at}.sentinels`, expected: 'at least one "host:port" when mode is sentinel', value: [] });
  }
  if (sink.waitReplicas > 0 && sink.waitTimeoutMs >= sink.resilience.timeoutMs) {
    throw new FormatError({
      path: `${at}.waitTimeoutMs`,
      expected: `less than ${at}.resilience.timeoutMs (${sink.resilience.timeoutMs}): the WAIT runs inside one write attempt`,
      value: sink.waitTimeoutMs,
    });
  }
}

/** The sinks list: `influx`, `redis` (if enabled), then the enabled extras; each checked across its keys. */
function resolveSinks(values: ConfigValues['sinks'], env: Env, sources: Record<string, string>): SinkConfig[] {
  const listed: [string, ExtraSink][] = [];
  const { influx, redis, extra } = values;
  if (influx.enabled) listed.push(['sinks.influx', { name: 'influx', type: 'influx', ...influx }]);
  if (redis.enabled) listed.push(['sinks.redis', { name: 'redis', type: 'redis', ...redis }]);
  extra.forEach((sink, i) => {
    if (listed.some(([, s]) => s.name === sink.name)) {
      const expected = `a name other than "${sink.name}", which the enabled sinks.${sink.name} already uses`;
      throw new FormatError({ path: `sinks.extra[${i}].name`, expected, value: sink.name });
    }
    if (!sink.enabled) return;
    // Extra sinks' secrets from env / _FILE / credentials, above the config file's value.
    const key = sink.type === 'influx' ? 'token' : 'password';
    const value = secret(`sinks.extra[${i}].${key}`, extraSinkSecretEnvName(sink.name, key), env, sources);
    listed.push([`sinks.extra[${i}]`, value === undefined ? sink : { ...sink, [key]: value }]);
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
    checkOrder(`${at}.resilience.retryInitialMs`, s.resilience.retryInitialMs, `${at}.resilience.retryMaxMs`, s.resilience.retryMaxMs);
    if (s.type === 'redis') checkRedisSink(at, s);
    // The label carried for run-time messages names an extra sink by name: `sinks.extra[name=cloud].tls`.
    const label = s.name === s.type ? `sinks.${s.name}.tls` : `sinks.extra[name=${s.name}].tls`;
    return { ...s, tls: resolveTls(s.url, `${at}.url`, s.tls, label, { at: `${at}.tls`, howToSet }) };
  });
}

function resolve(values: ConfigValues, env: Env, sources: Record<string, string>): Config {
  const { routesFile: _routesFile, ...rest } = values;
  const { gatewayId, mqtt: m } = values;
  checkOrder('mqtt.reconnectMinMs', m.reconnectMinMs, 'mqtt.reconnectMaxMs', m.reconnectMaxMs);
  checkHostId(values);
  const clientId = m.clientId || `edgebridge-${gatewayId}`;
  const mqtt = {
    ...m,
    connections: connectionCount(values, clientId),
    clientId,
    statusTopic: m.statusTopic.replaceAll('{gatewayId}', gatewayId),
    deadLetterTopic: m.deadLetterTopic.replaceAll('{gatewayId}', gatewayId),
    tls: resolveTls(m.url, 'mqtt.url', m.tls, 'mqtt.tls', { at: 'mqtt.tls', howToSet }),
  };
  const sinks = resolveSinks(values.sinks, env, sources);
  const enabled = sinks.map((s) => s.name);
  const known = ['influx', 'redis', ...values.sinks.extra.map((e) => e.name)];
  values.routes.forEach((route, i) => {
    // MQTT 3.1.1 has no properties: such a route would never see one (its measurement would reject every message).
    if (route.propertyKey !== '' && m.protocolVersion !== 5) {
      const key = route.propertyKey;
      throw new FormatError({
        path: `routes[${i}].${key}`,
        expected: `no MQTT 5 property while mqtt.protocolVersion is ${m.protocolVersion}: MQTT 3.1.1 messages carry none`,
        value: key === 'measurement' ? route.measurement : key === 'timeField' ? route.timeField : route.tags[key.slice(5)],
        fix: `set EDGEBRIDGE_MQTT_PROTOCOL_VERSION=5 (mqtt.protocolVersion in the config file), or remove the property from routes[${i}].${key}`,
      });
    }
    route.sinks.forEach((name, j) => {
      if (enabled.includes(name)) return;
      const expected = `the name of an enabled sink (${enabled.join(', ') || 'none enabled'})${known.includes(name) ? `; "${name}" is disabled` : ''}`;
      throw new FormatError({ path: `routes[${i}].sinks[${j}]`, expected, value: name });
    });
    // A deadband thins sinks the route writes to: another name is a typo or a sink this route never feeds.
    const routeSinks = route.sinks.length === 0 ? enabled : route.sinks;
    route.deadband?.sinks?.forEach((name, j) => {
      if (routeSinks.includes(name)) return;
      const expected = `the name of a sink this route writes to (${routeSinks.join(', ') || 'none enabled'})${known.includes(name) && !enabled.includes(name) ? `; "${name}" is disabled` : ''}`;
      throw new FormatError({ path: `routes[${i}].deadband.sinks[${j}]`, expected, value: name });
    });
  });
  return { ...rest, mqtt, sinks };
}

/** What convict takes: our leaves with the format left to us (`*`: convict neither coerces nor checks). */
function convictSchema(tree: SchemaTree): convict.Schema<Record<string, unknown>> {
  const out: convict.Schema<Record<string, unknown>> = {};
  for (const [key, node] of Object.entries(tree)) {
    if (!isLeaf(node)) out[key] = convictSchema(node);
    else
      out[key] = {
        doc: node.doc,
        default: node.default,
        format: '*',
        sensitive: node.sensitive ?? false,
        env: node.env,
        ...(node.arg ? { arg: node.arg } : {}),
      };
  }
  return out;
}

/** A config or routes file whose top level is not what it must be: `a JSON ${what} of ${of}`. */
function notJson(key: string, role: string, path: string, what: string, of: string, fix: string): ConfigError {
  const expected = `a JSON ${what} of ${of}`;
  return new ConfigError({ key, value: path, subject: `${role} "${path}"`, problem: `does not hold a JSON ${what}`, expected, fix });
}

export function loadConfigDetailed(opts: LoadConfigOptions): LoadedConfig {
  const schema: Schema = createSchema(opts.hostname);
  const scanned = scanArgv(opts.argv, schema);
  const envConfig = opts.env[CONFIG_FILE_ENV];
  const configFile = scanned.configFile ?? (envConfig !== undefined && envConfig !== '' ? envConfig : undefined);
  let routesFile: string | undefined;
  const secretSources: Record<string, string> = {};

  try {
    const fileValues =
      configFile === undefined ? undefined : readJsonFile(configFile, 'config file', 'config', `check --config / ${CONFIG_FILE_ENV}`);
    if (fileValues !== undefined && !isPlainObject(fileValues)) {
      throw notJson('config', 'config file', configFile!, 'object', 'config keys', 'wrap the settings in { … }');
    }
    if (fileValues !== undefined) checkShape(schema, fileValues);

    // Secrets of the default sinks / MQTT from _FILE and credentials, as if set in the env.
    const env: Record<string, string | undefined> = { ...opts.env };
    for (const [key, leaf] of leaves(schema)) {
      const value = leaf.sensitive && leaf.env ? secret(key, leaf.env, opts.env, secretSources) : undefined;
      if (value !== undefined) env[leaf.env!] = value;
    }
    // Explicit env/args: convict would otherwise read process.env and process.argv.
    const conf = convict(convictSchema(schema), { env: env as NodeJS.ProcessEnv, args: [] });
    if (fileValues !== undefined) conf.load(fileValues); // re-applies env on top
    for (const [key, raw] of scanned.sets) conf.set(key, raw);

    const routesPath: unknown = conf.get('routesFile');
    if (typeof routesPath === 'string' && routesPath !== '') {
      const fromFile =
        fileValues?.routesFile === routesPath &&
        !scanned.sets.some(([k]) => k === 'routesFile') &&
        opts.env.EDGEBRIDGE_ROUTES_FILE === undefined;
      routesFile = fromFile && configFile && !isAbsolute(routesPath) ? join(dirname(configFile), routesPath) : routesPath;
      const routes = readJsonFile(routesFile, 'routes file', 'routesFile', 'fix the file or set EDGEBRIDGE_ROUTES_FILE / "routesFile"');
      if (!Array.isArray(routes)) {
        throw notJson('routesFile', 'routes file', routesFile, 'array', 'routes', "make the file's top level [ {route}, … ]");
      }
      conf.set('routes', routes);
    }

    const values = parseTree(schema, conf.getProperties());
    const config = resolve(values, opts.env, secretSources);
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
