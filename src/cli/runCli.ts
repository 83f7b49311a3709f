import type { Writable } from 'node:stream';
import { loadConfigDetailed, type LoadedConfig } from '../config/loadConfig.ts';
import { ConfigError, CONFIG_EXIT_CODE } from '../errors/ConfigError.ts';
import { redactConfig, redactUrl } from '../log/redactConfig.ts';
import type { Config } from '../config/Config.ts';
import { USAGE } from './usage.ts';
import { readVersion } from './version.ts';
import { checkSpoolDir } from './checkSpoolDir.ts';
import { runDryRun } from './dryRun.ts';
import { routeTestsExitCode, runRouteTests } from './routeTest/runRouteTests.ts';
import { parseCommandLine, type CommandLine } from './parseCommandLine.ts';

export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** What the process should do after parsing the command line. */
export type CliOutcome =
  | { readonly kind: 'exit'; readonly code: number }
  | {
      readonly kind: 'run';
      readonly config: Config;
      /** Where the configuration came from: the config file, or `environment and flags`. */
      readonly source: string;
      /** Loads the whole configuration again from the same command line and environment (a reload; throws ConfigError). */
      readonly load: () => { readonly config: Config; readonly source: string };
    };

function sourceOf(loaded: LoadedConfig): string {
  return loaded.configFile ?? 'environment and flags';
}

/** Parses the command, loads the config, and handles every command that does not run the gateway. */
export function runCli(io: CliIo): CliOutcome {
  const { argv, stdout, stderr } = io;
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    stderr.write(`edgebridge: configuration error: ${error.message}\n`);
    return { kind: 'exit', code: CONFIG_EXIT_CODE };
  }
  switch (line.kind) {
    case 'help':
      stdout.write(USAGE);
      return { kind: 'exit', code: 0 };
    case 'version':
      stdout.write(`${readVersion()}\n`);
      return { kind: 'exit', code: 0 };
    case 'usage-error':
      stderr.write(`edgebridge: ${line.message}\n\n${USAGE}`);
      return { kind: 'exit', code: 2 };
  }
  const { command, dryRun, testFiles } = line;
  let config: Config;
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigDetailed({ argv: line.configArgv, env: io.env });
    config = loaded.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      stderr.write(`edgebridge: configuration error: ${error.message}\n`);
      return { kind: 'exit', code: CONFIG_EXIT_CODE };
    }
    throw error;
  }
  switch (command) {
    case 'check-config':
      if (config.spool.type === 'disk') {
        try {
          checkSpoolDir(config.spool.dir);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          stderr.write(`edgebridge: configuration error: ${error.message}\n`);
          return { kind: 'exit', code: CONFIG_EXIT_CODE };
        }
      }
      stdout.write(summarise(config));
      return { kind: 'exit', code: 0 };
    case 'test':
      return { kind: 'exit', code: routeTestsExitCode(runRouteTests(config, testFiles, stdout)) };
    case 'print-config':
      stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
      return { kind: 'exit', code: 0 };
    default:
      if (dryRun !== undefined) return { kind: 'exit', code: runDryRun(config, dryRun, stdout, stderr) };
      return {
        kind: 'run',
        config,
        source: sourceOf(loaded),
        load: () => {
          const again = loadConfigDetailed({ argv: line.configArgv, env: io.env });
          return { config: again.config, source: sourceOf(again) };
        },
      };
  }
}

function summarise(config: Config): string {
  const lines = [
    'configuration OK',
    `  gateway id:    ${config.gatewayId}`,
    `  mqtt:          ${redactUrl(config.mqtt.url)} as ${config.mqtt.clientId} (MQTT ${config.mqtt.protocolVersion === 5 ? '5' : '3.1.1'}, ${config.mqtt.clean ? 'clean' : 'persistent'} session)`,
    `  subscriptions: ${config.mqtt.subscriptions.map((s) => `${s.topic} (QoS ${s.qos})`).join(', ')}`,
    `  routes:        ${config.routes.length}`,
    ...config.routes.map(
      (r, i) =>
        `    ${i + 1}. ${r.topic} [${r.format}] → ${r.measurement || '(from line protocol)'}${r.sinks.length ? ` → ${r.sinks.join(', ')}` : ''}`,
    ),
    `  sinks:         ${config.sinks.map((s) => `${s.name} (${s.type})`).join(', ') || 'none'}`,
    `  spool:         ${config.spool.dir}, max ${config.spool.maxBytes} bytes, when full: ${config.spool.overflow}`,
    `  health:        http://${config.http.host}:${config.http.port}/healthz`,
  ];
  return `${lines.join('\n')}\n`;
}
