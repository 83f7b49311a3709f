import { createLogger } from '../log/createLogger.ts';
import { Gateway, type LoadedSource } from '../Gateway.ts';
import type { Config } from '../config/Config.ts';
import { readVersion } from './version.ts';
import { CONFIG_EXIT_CODE, ConfigError } from '../errors/ConfigError.ts';

export interface ReloadSource {
  /** Where the configuration came from (`/status` config.source). */
  readonly source: string;
  /** Loads the whole configuration again, as at start (throws ConfigError). */
  readonly load: () => LoadedSource;
}

/**
 * Runs the gateway as a process: owns the signals and the last-resort error handlers.
 * First SIGTERM/SIGINT: graceful stop (drain within shutdown.timeoutMs), exit 0. A second one: exit at once.
 * SIGHUP (`systemctl reload`): reload the configuration (Gateway.reload); ignored without `reload`.
 * An unexpected error: logged, exit 1, so systemd restarts the service.
 */
export async function runGateway(config: Config, reload?: ReloadSource): Promise<void> {
  const logger = createLogger({ level: config.log.level });
  const exit = (code: number): void => {
    logger.flush();
    process.exit(code);
  };
  const gateway = new Gateway({ config, logger, version: readVersion(), exit, configSource: reload?.source, load: reload?.load });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'signal received');
    void gateway.stop(0);
  };
  // Without a listener SIGHUP would end the process; with one, a reload (logged by the gateway, never fatal).
  process.on('SIGHUP', () => {
    if (stopping || reload === undefined) return;
    logger.info({ signal: 'SIGHUP' }, 'signal received: reloading the configuration');
    void gateway.reload(reload.load);
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'unexpected error');
    exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason instanceof Error ? reason : String(reason) }, 'unhandled promise rejection');
    exit(1);
  });
  try {
    await gateway.start();
  } catch (error) {
    const configError = error instanceof ConfigError;
    logger.fatal({ err: configError ? error.message : error instanceof Error ? error : String(error) }, 'start-up failed');
    stopping = true;
    await gateway.stop(configError ? CONFIG_EXIT_CODE : 1);
  }
}
