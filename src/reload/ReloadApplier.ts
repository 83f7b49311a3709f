import type { Logger } from 'pino';
import type { Config, Subscription } from '../config/Config.ts';
import type { TlsFiles } from '../tls/readTlsFiles.ts';
import { MAX_SINKS } from '../config/loadConfig.ts';
import { ConfigError } from '../errors/ConfigError.ts';
import type { ServiceNotifier } from '../health/SystemdNotifier.ts';
import type { SinkSet } from '../workers/SinkSet.ts';
import { diffConfig, type ConfigDiff } from './diffConfig.ts';
import type { LiveRouter } from './LiveRouter.ts';
import type { ReloadResult, ReloadStatus } from './ReloadStatus.ts';

/** A configuration a reload loads: the whole of it, validated, and where it came from. */
export interface LoadedSource {
  readonly config: Config;
  readonly source: string;
}

/** How one reload ended (also its log line and, when refused, `/status` config.lastReloadError). */
export interface ReloadOutcome {
  readonly result: ReloadResult;
  readonly message: string;
}

/** What a reload changes on the MQTT side (MqttSourceGroup). */
export interface ReloadableSource {
  updateSubscriptions(next: readonly Subscription[], subscribe: readonly Subscription[], unsubscribe: readonly string[]): void;
  /** Reconnects each connection with renewed TLS material, its session kept; how many were back within `timeoutMs` each. */
  renewTls(files: TlsFiles | undefined, timeoutMs: number): Promise<{ readonly reconnected: number; readonly connections: number }>;
}

export interface ReloadApplierOptions {
  /** The configuration the gateway started with. */
  readonly config: Config;
  readonly logger: Logger;
  readonly status: ReloadStatus;
  readonly notifier: ServiceNotifier;
  readonly sinks: SinkSet;
  readonly router: LiveRouter;
  readonly source: ReloadableSource;
  /** The Sparkplug host was built at start (only when a route needed it): a first sparkplug route needs a restart. */
  readonly sparkplug: boolean;
  /** Where the gateway is: a reload is refused before every stage started (the spool may not be open yet) and once stopping. */
  readonly phase: () => 'starting' | 'running' | 'stopping';
  /** The READY=1 status line the service manager hears after a reload. */
  readonly readyStatus: () => string;
  /** After a configuration was applied (the gateway's warnings about it). */
  readonly onApplied: (config: Config) => void;
}

/**
 * `reload()` (SIGHUP, `POST /reload`) applies a new configuration without a restart: what changed is worked out
 * first (diffConfig), a change that cannot be applied live refuses the whole reload, and the rest is applied
 * between two messages — the MQTT session, the spool and every sink's cursor go on as they were.
 */
export class ReloadApplier {
  readonly #options: ReloadApplierOptions;
  /** The configuration running: the start's, then each applied reload's. */
  #config: Config;
  /** Reloads run one after the other. */
  #reloading: Promise<unknown> = Promise.resolve();

  constructor(options: ReloadApplierOptions) {
    this.#options = options;
    this.#config = options.config;
  }

  get config(): Config {
    return this.#config;
  }

  /**
   * Loads the configuration again (`load`: the whole of it, validated) and applies what changed. Refused, with
   * nothing changed: a configuration that does not load (`invalid`, the message check-config prints) or that changes
   * a key only a restart can (`restart_required`, naming the keys). Reloads run one at a time; each is counted,
   * logged and shown in `/status`. The service manager hears RELOADING=1 … READY=1 around it.
   */
  reload(load: () => LoadedSource): Promise<ReloadOutcome> {
    const run = this.#reloading.then(() => this.#reload(load));
    this.#reloading = run.catch(() => {});
    return run;
  }

  async #reload(load: () => LoadedSource): Promise<ReloadOutcome> {
    const { logger, status, notifier, phase } = this.#options;
    if (phase() === 'stopping') return { result: 'failed', message: 'shutting down' };
    if (phase() === 'starting') {
      const outcome: ReloadOutcome = {
        result: 'failed',
        message: 'reload refused: the gateway is still starting; send SIGHUP again once it is up',
      };
      status.refused('failed', outcome.message, Date.now());
      logger.error(outcome.message);
      return outcome;
    }
    notifier.reloading?.();
    try {
      const outcome = await this.#loadAndApply(load);
      if (outcome.result === 'applied') {
        this.#logOutcome({ generation: status.generation, source: status.report().source }, outcome.message);
      } else if (outcome.result === 'unchanged') {
        status.unchanged();
        this.#logOutcome({ generation: status.generation }, outcome.message);
      } else {
        status.refused(outcome.result, outcome.message, Date.now());
        logger.error({ result: outcome.result, err: outcome.message }, 'reload refused: the running configuration goes on unchanged');
      }
      return outcome;
    } finally {
      notifier.ready(this.#options.readyStatus());
    }
  }

  /**
   * A reload's outcome is always logged at info, also when log.level is warn or error (not when silent): one line
   * per `systemctl reload`, which is what the operator looks for.
   */
  #logOutcome(fields: Record<string, unknown>, message: string): void {
    const { logger } = this.#options;
    const level = logger.level;
    if (level === 'silent' || logger.isLevelEnabled('info')) {
      logger.info(fields, message);
      return;
    }
    logger.level = 'info';
    logger.info(fields, message);
    logger.level = level;
  }

  async #loadAndApply(load: () => LoadedSource): Promise<ReloadOutcome> {
    let loaded: LoadedSource;
    try {
      loaded = load();
    } catch (error) {
      // The same words `edgebridge check-config` prints for this configuration.
      if (error instanceof ConfigError) return { result: 'invalid', message: `configuration error: ${error.message}` };
      return { result: 'failed', message: `could not load the configuration: ${String(error)}` };
    }
    const next = loaded.config;
    const diff = diffConfig(this.#config, next);
    const restart = [...diff.restartKeys];
    const slotsLeft = MAX_SINKS - this.#options.sinks.slots.length;
    if (diff.sinksAdded.length > slotsLeft)
      restart.push(`sinks (${diff.sinksAdded.length} added, ${slotsLeft} sink slots left until a restart)`);
    // The Sparkplug host (alias maps, seq state, its store) is built at start only when a route needs it.
    if (!this.#options.sparkplug && next.routes.some((r) => r.format === 'sparkplug'))
      restart.push('routes (a first route with format sparkplug)');
    if (restart.length > 0) return { result: 'restart_required', message: `needs a restart to change: ${restart.join(', ')}` };
    if (diff.liveKeys.length === 0) return { result: 'unchanged', message: 'reload: configuration unchanged' };
    try {
      // First, before anything else changes: a server that refuses a sink's renewed material fails the reload whole.
      for (const r of diff.tlsRenewed.sinks) await this.#options.sinks.renewTls(r.name, r.tls);
    } catch (error) {
      return { result: 'failed', message: `reload failed, the rest not applied (the running configuration goes on): ${String(error)}` };
    }
    try {
      await this.#apply(diff, next);
    } catch (error) {
      // Applied up to the step that failed. The running configuration stays the old one, so the next reload tries
      // the rest again (every step is idempotent); a restart is the sure way.
      return {
        result: 'failed',
        message: `reload failed while applying, partly applied (send SIGHUP again, or restart): ${String(error)}`,
      };
    }
    this.#options.status.applied(loaded.source, Date.now());
    return { result: 'applied', message: `configuration reloaded: ${diff.liveKeys.join(', ')}` };
  }

  /**
   * In an order that loses nothing: new sinks exist before a route can address them, removed ones go after. Renewed
   * MQTT TLS material last: its reconnect (the session kept) comes once the rest is in place.
   */
  async #apply(diff: ConfigDiff, next: Config): Promise<void> {
    const { logger, sinks, router, source } = this.#options;
    if (diff.logLevel !== undefined) logger.level = diff.logLevel; // children follow (they inherit it from the root)
    for (const t of diff.sinksTuned) sinks.tune(t.name, t.batch, t.resilience);
    // Guarded by name: after a reload that failed half-way, the next one may list a sink that is already there.
    for (const c of diff.sinksAdded) if (!sinks.has(c.name)) await sinks.add(c);
    // Synchronous: the source calls the new router from its next message on.
    if (diff.router) router.replace(next, sinks.slots);
    // The router no longer addresses them.
    for (const name of diff.sinksRemoved) if (sinks.has(name)) await sinks.remove(name);
    const { subscribe, unsubscribe } = diff.subscriptions;
    if (subscribe.length > 0 || unsubscribe.length > 0) source.updateSubscriptions(next.mqtt.subscriptions, subscribe, unsubscribe);
    const mqttTls = diff.tlsRenewed.mqtt;
    if (mqttTls !== undefined) {
      const { reconnected, connections } = await source.renewTls(mqttTls.files, next.mqtt.connectTimeoutMs);
      if (reconnected === connections) logger.info({ connections }, 'reload: mqtt reconnected with the renewed TLS material');
      else
        logger.warn(
          { reconnected, connections, timeoutMs: next.mqtt.connectTimeoutMs },
          'reload: not every mqtt connection is back with the renewed TLS material yet; each takes it on its next attempt',
        );
    }
    this.#config = next;
    this.#options.onApplied(next);
  }
}
