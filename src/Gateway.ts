import type { Logger } from 'pino';
import type { Config, SinkConfig } from './config/Config.ts';
import { CollapsingLog } from './log/CollapsingLog.ts';
import { HostState } from './pipeline/sparkplug/HostState.ts';
import { DeadbandStats } from './pipeline/deadband/DeadbandStats.ts';
import { CommandPublisher } from './source/CommandPublisher.ts';
import { buildSpool } from './spool/buildSpool.ts';
import { buildSparkplugHost } from './pipeline/sparkplug/buildSparkplugHost.ts';
import type { Sink } from './sinks/Sink.ts';
import { SinkSet } from './workers/SinkSet.ts';
import { findOrphanedSinks, type OrphanedSink } from './workers/findOrphanedSinks.ts';
import type { MqttSourceGroup } from './source/MqttSourceGroup.ts';
import { buildMqttSource, type MqttSourceParts } from './source/buildMqttSource.ts';
import { DeadLetter } from './source/DeadLetter.ts';
import { HealthServer } from './health/HealthServer.ts';
import { GatewayMetrics } from './health/GatewayMetrics.ts';
import { SystemdNotifier, type ServiceNotifier } from './health/SystemdNotifier.ts';
import type { GatewayView, SinkView } from './health/GatewayView.ts';
import { RecentMessages } from './stats/RecentMessages.ts';
import { insecureTls } from './tls/insecureTls.ts';
import { LiveRouter } from './reload/LiveRouter.ts';
import { ReloadApplier, type LoadedSource, type ReloadOutcome } from './reload/ReloadApplier.ts';
import { ReloadStatus } from './reload/ReloadStatus.ts';

export type { LoadedSource, ReloadOutcome } from './reload/ReloadApplier.ts';
export { sessionMarkerName } from './source/buildMqttSource.ts';

export interface GatewayOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  /** Called once `stop()` has finished, with the exit code; main passes `process.exit`, tests a spy. */
  readonly exit: (code: number) => void;
  /** Replaces the sink built for a config entry (tests inject fakes); undefined = the real one. */
  readonly createSink?: (config: SinkConfig, logger: Logger) => Sink | undefined;
  /** Tells the service manager READY / WATCHDOG / STOPPING; default: sd_notify through `process.env` (no-op without NOTIFY_SOCKET). */
  readonly notifier?: ServiceNotifier;
  /** Where `config` came from (`/status` config.source); default `environment and flags`. */
  readonly configSource?: string;
  /** Loads the configuration again (SIGHUP does it through runGateway); given, `POST /reload` is served (with a token). */
  readonly load?: () => LoadedSource;
}

/** One step of start-up; the parts of a stage start and stop together (sinks and workers: those running then). */
interface Stage {
  readonly name: string;
  parts(): readonly { readonly name: string; start(): Promise<void> | void; stop(): Promise<void> | void }[];
}

/**
 * The composition root: builds every part from the config, starts the stages in order — spool, health server,
 * sinks, workers, MQTT source — and stops them in reverse: the source stops taking messages, the workers drain
 * until the shutdown deadline, the sinks disconnect, the health server (answering "shutting down" until then)
 * closes, the spool closes. A part that fails to stop is logged and the rest still stop.
 *
 * `reload()` (SIGHUP) applies a new configuration without a restart (reload/ReloadApplier.ts).
 */
export class Gateway {
  readonly view: GatewayView;
  readonly health: HealthServer;
  readonly #options: GatewayOptions;
  readonly #stages: Stage[];
  readonly #notifier: ServiceNotifier;
  #shuttingDown = false;
  /** Every stage started: a reload before that is refused (the spool may not be open yet). */
  #started = false;
  #drainDeadline = 0;
  #stopped: Promise<void> | undefined;
  readonly #orphanedSinks: OrphanedSink[] = [];
  readonly #router: LiveRouter;
  readonly #mqtt: MqttSourceParts;
  readonly #reloader: ReloadApplier;

  constructor(options: GatewayOptions) {
    this.#options = options;
    const { config, logger } = options;
    const collapsed = new CollapsingLog({ logger, intervalMs: config.log.collapseIntervalMs });
    const recent = new RecentMessages();
    const deadLetter = new DeadLetter({ topic: config.mqtt.deadLetterTopic, gatewayId: config.gatewayId });
    const spool = buildSpool(config, logger);
    const commands = new CommandPublisher();
    // Built once: its alias maps and seq state outlive every router a reload builds.
    const sparkplug = buildSparkplugHost(config, commands, logger);
    this.#notifier = options.notifier ?? new SystemdNotifier({ env: process.env, logger: logger.child({ part: 'systemd' }) });
    const reloads = new ReloadStatus(options.configSource ?? 'environment and flags', Date.now());
    // Report-by-exception counters: one for the process, so a reload (a new router, new state) keeps counting on.
    const deadband = new DeadbandStats();
    // The gateway's own Sparkplug STATE (sparkplug.hostId): on the connection, and told of deaths on its topic.
    const hostState =
      config.sparkplug.hostId === ''
        ? undefined
        : new HostState({ hostId: config.sparkplug.hostId, logger: logger.child({ part: 'sparkplug' }) });
    this.#router = new LiveRouter({ config, sparkplug, deadband, recent, hostState });
    this.#mqtt = buildMqttSource({ config, router: this.#router, spool, logger, collapsed, deadLetter, commands, presence: hostState });
    const source: MqttSourceGroup = this.#mqtt.group;
    /** `view.sinks`: the running sinks' figures, changed in place by reloads. */
    const sinkViews: SinkView[] = [];
    this.view = {
      gatewayId: config.gatewayId,
      version: options.version,
      startedAt: Date.now(),
      source: this.#mqtt.stats,
      deadLetter: deadLetter.stats,
      sinks: sinkViews,
      recent,
      spool: () => spool.stats(),
      shuttingDown: () => this.#shuttingDown,
      orphanedSinks: () => this.#orphanedSinks,
      config: () => reloads.report(),
      reloads: () => reloads.results,
      sparkplug: sparkplug?.stats,
      deadband,
      connections: () => this.#mqtt.connections(),
    };
    const metrics = new GatewayMetrics(this.view);
    const sinks = new SinkSet({
      configs: config.sinks,
      spool,
      logger,
      collapsed,
      views: sinkViews,
      // Each line a server refused goes to the dead letter with the server's message (nothing dropped unseen).
      onRejected: (name) => (text, reason) => deadLetter.offer('sink_rejected', reason, `sink:${name}`, Buffer.from(text, 'utf8')),
      writeObserver: (name) => metrics.writeObserver(name),
      createSink: options.createSink,
    });
    this.#reloader = new ReloadApplier({
      config,
      logger,
      status: reloads,
      notifier: this.#notifier,
      sinks,
      router: this.#router,
      source,
      sparkplug: sparkplug !== undefined,
      phase: () => (this.#shuttingDown ? 'stopping' : this.#started ? 'running' : 'starting'),
      readyStatus: () => this.#readyStatus(),
      onApplied: (next) => this.#warnUncovered(next),
    });
    this.health = new HealthServer({
      host: config.http.host,
      port: config.http.port,
      token: config.http.token,
      view: this.view,
      metrics,
      logger,
      // The status page's route tester: the routes of this config, nothing written (the --dry-run code).
      tryRoute: (topic, payload, properties) => this.#router.explain(topic, payload, Date.now(), properties),
      ...(options.load === undefined ? {} : { reload: () => this.reload(options.load!) }),
    });

    this.#stages = [
      { name: 'spool', parts: () => [{ name: 'spool', start: () => spool.open(), stop: () => spool.close() }] },
      { name: 'health', parts: () => [{ name: 'health server', start: () => this.health.start(), stop: () => this.health.stop() }] },
      {
        name: 'sinks',
        parts: () => sinks.parts.map(({ sink }) => ({ name: `sink ${sink.name}`, start: () => sink.start(), stop: () => sink.stop() })),
      },
      {
        name: 'workers',
        parts: () =>
          sinks.parts.map(({ worker: w }) => ({
            name: `worker ${w.name}`,
            start: () => w.start(),
            stop: () => w.stop(this.#drainDeadline),
          })),
      },
      {
        name: 'sparkplug',
        parts: () =>
          sparkplug === undefined
            ? []
            : [
                {
                  name: 'sparkplug host',
                  start: () => {
                    // After the spool: its directory exists. Before the source: no message before the alias maps.
                    for (const problem of sparkplug.start())
                      logger.warn({ problem }, 'a Sparkplug alias-map file could not be read: its node needs a Rebirth');
                  },
                  // After the source: no BIRTH comes any more; the last alias maps are written before the exit.
                  stop: () => sparkplug.stop(),
                },
              ],
      },
      {
        name: 'source',
        parts: () => [{ name: 'mqtt source', start: () => source.start(), stop: () => source.stop(this.#drainDeadline) }],
      },
    ];
  }

  async start(): Promise<void> {
    const { logger } = this.#options;
    const config = this.#reloader.config;
    if (config.http.token === '' && !isLoopback(config.http.host)) {
      logger.warn(
        { host: config.http.host },
        'health server bound beyond loopback without http.token: /status and /metrics are open to the network',
      );
    }
    for (const { key, target } of insecureTls(config)) {
      logger.warn(
        { key, target },
        `TLS certificate verification is off for ${target} (${key}=false): anyone on the network path can impersonate the server`,
      );
    }
    this.#warnUncovered(config);
    this.#mqtt.warnRetiredSessions();
    if (config.spool.type === 'disk') {
      const sinkNames = config.sinks.map((s) => s.name);
      for (const o of findOrphanedSinks(config.spool.dir, sinkNames)) {
        this.#orphanedSinks.push(o);
        logger.error(
          { orphanedSink: o.sink, segments: o.segments, configuredSinks: sinkNames },
          `the spool holds a backlog for sink "${o.sink}", which is not configured (renamed or removed?): it will not be delivered and goes when its segments are deleted; give the sink its old name back to deliver it`,
        );
      }
    }
    for (const stage of this.#stages) {
      await Promise.all(stage.parts().map((p) => p.start()));
      // Spool open and /healthz answering: up for the service manager, whether or not the broker is reachable.
      if (stage.name === 'health') this.#notifier.ready(this.#readyStatus());
    }
    this.#started = true;
    logger.info(
      { gatewayId: config.gatewayId, sinks: config.sinks.map((s) => `${s.name}(${s.type})`), routes: config.routes.length },
      'edgebridge started',
    );
  }

  /** See ReloadApplier.reload: refused as a whole, or applied between two messages; one at a time. */
  reload(load: () => LoadedSource): Promise<ReloadOutcome> {
    return this.#reloader.reload(load);
  }

  #warnUncovered(config: Config): void {
    const subscriptions = config.mqtt.subscriptions.map((s) => s.topic);
    for (const filter of this.#router.uncovered(subscriptions)) {
      this.#options.logger.warn(
        { route: filter, subscriptions },
        'no subscription delivers every topic of this route: add one to mqtt.subscriptions',
      );
    }
  }

  #readyStatus(): string {
    const config = this.#reloader.config;
    return `${config.gatewayId}: spool open, health on ${config.http.host}:${this.health.port}`;
  }

  /** Idempotent; resolves after `exit` was called. */
  stop(exitCode = 0): Promise<void> {
    this.#stopped ??= this.#stop(exitCode);
    return this.#stopped;
  }

  async #stop(exitCode: number): Promise<void> {
    const { logger, exit } = this.#options;
    const config = this.#reloader.config;
    this.#notifier.stopping();
    this.#shuttingDown = true;
    this.#drainDeadline = Date.now() + config.shutdown.timeoutMs;
    logger.info({ timeoutMs: config.shutdown.timeoutMs }, 'stopping');
    let failed = false;
    for (const stage of [...this.#stages].reverse()) {
      // Parts of one stage stop in parallel: one sink's outage must not eat the other's share of the deadline.
      const parts = stage.parts();
      const results = await Promise.allSettled(parts.map(async (p) => p.stop()));
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          failed = true;
          logger.error({ part: parts[i]!.name, err: String(r.reason) }, 'part failed to stop');
        }
      });
    }
    const unflushed = this.view.sinks.filter((s) => s.stats.pointsUnflushedAtStop > 0);
    if (unflushed.length > 0) {
      logger.error(
        { unflushed: Object.fromEntries(unflushed.map((s) => [s.stats.name, s.stats.pointsUnflushedAtStop])) },
        'points not written before the shutdown deadline',
      );
    }
    const src = this.view.source;
    logger.info({ received: src.received, accepted: src.accepted, unrouted: src.unrouted, rejected: src.rejected }, 'edgebridge stopped');
    exit(failed && exitCode === 0 ? 1 : exitCode);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
