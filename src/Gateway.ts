import { findOrphanedSinks, type OrphanedSink } from './workers/findOrphanedSinks.ts';
import type { Logger } from 'pino';
import type { Config, SinkConfig } from './config/Config.ts';
import type { SpoolCursor } from './spool/Spool.ts';
import { CollapsingLog } from './log/CollapsingLog.ts';
import { Router } from './pipeline/Router.ts';
import { HostState } from './pipeline/sparkplug/HostState.ts';
import { SparkplugHost } from './pipeline/sparkplug/SparkplugHost.ts';
import { SparkplugStats } from './pipeline/sparkplug/SparkplugStats.ts';
import { DeadbandStats } from './pipeline/deadband/DeadbandStats.ts';
import { SparkplugStore } from './pipeline/sparkplug/SparkplugStore.ts';
import { CommandPublisher } from './source/CommandPublisher.ts';
import { join } from 'node:path';
import { limitsOf } from './pipeline/PointLimits.ts';
import { filterCovers } from './topic/filterCovers.ts';
import type { MessageProperties } from './topic/MessageProperty.ts';
import { MemorySpool } from './spool/MemorySpool.ts';
import { DiskSpool } from './spool/disk/DiskSpool.ts';
import type { Spool } from './spool/Spool.ts';
import type { Sink } from './sinks/Sink.ts';
import { InfluxSink } from './sinks/influx/InfluxSink.ts';
import { RedisSink } from './sinks/redis/RedisSink.ts';
import type { RejectedPointsListener } from './sinks/isolateBadPoints.ts';
import { SinkWorker } from './workers/SinkWorker.ts';
import { MqttSourceGroup } from './source/MqttSourceGroup.ts';
import { retiredSessions } from './source/retiredSessions.ts';
import { DeadLetter } from './source/DeadLetter.ts';
import { SessionMarker } from './source/SessionMarker.ts';
import { HealthServer } from './health/HealthServer.ts';
import { MessageExplainer } from './explain/MessageExplainer.ts';
import { GatewayMetrics } from './health/GatewayMetrics.ts';
import { SystemdNotifier, type ServiceNotifier } from './health/SystemdNotifier.ts';
import type { GatewayView, SinkView } from './health/GatewayView.ts';
import { SourceStats } from './stats/SourceStats.ts';
import { SourceStatsSum } from './stats/SourceStatsSum.ts';
import { RecentMessages } from './stats/RecentMessages.ts';
import { SinkStats } from './stats/SinkStats.ts';
import { insecureTls } from './tls/insecureTls.ts';
import { ConfigError } from './errors/ConfigError.ts';
import { diffConfig, type ConfigDiff } from './reload/diffConfig.ts';
import { ReloadStatus, type ReloadResult } from './reload/ReloadStatus.ts';
import { MAX_SINKS } from './config/loadConfig.ts';

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

/** One sink as it runs: its slot in the spool (the bit of its entries), the sink, its worker and its figures. */
interface SinkPart {
  readonly config: SinkConfig;
  readonly index: number;
  readonly sink: Sink;
  readonly worker: SinkWorker;
  readonly view: SinkView;
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
 * `reload()` (SIGHUP) applies a new configuration without a restart: what changed is worked out first
 * (reload/diffConfig.ts), a change that cannot be applied live refuses the whole reload, and the rest is applied
 * between two messages — the MQTT session, the spool and every sink's cursor go on as they were.
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
  /** The configuration running: the start's, then each applied reload's. */
  #config: Config;
  readonly #spool: Spool;
  readonly #metrics: GatewayMetrics;
  readonly #collapsed: CollapsingLog;
  readonly #deadLetter: DeadLetter;
  readonly #source: MqttSourceGroup;
  /** The router the source calls; a reload replaces it between two messages. */
  #router: Router;
  #explainer: MessageExplainer;
  readonly #sparkplug: SparkplugHost | undefined;
  /** Report-by-exception counters: one for the process, so a reload (a new router, new state) keeps counting on. */
  readonly #deadband = new DeadbandStats();
  /** The sink of each spool slot (bit), undefined once removed: slots are not reused while the process runs. */
  readonly #slots: (string | undefined)[];
  readonly #sinks: SinkPart[];
  /** `view.sinks`: the running sinks' figures, changed in place by reloads. */
  readonly #sinkViews: SinkView[];
  readonly #reloads: ReloadStatus;
  /** Reloads run one after the other. */
  #reloading: Promise<unknown> = Promise.resolve();

  constructor(options: GatewayOptions) {
    this.#options = options;
    const { config, logger } = options;
    this.#config = config;
    this.#collapsed = new CollapsingLog({ logger, intervalMs: config.log.collapseIntervalMs });
    // One SourceStats per MQTT connection (mqtt.connections); the view reads them summed when there are several.
    const connectionStats = Array.from({ length: config.mqtt.connections }, () => new SourceStats());
    const sourceStats = connectionStats.length === 1 ? connectionStats[0]! : new SourceStatsSum(connectionStats);
    const recent = new RecentMessages();
    const deadLetter = new DeadLetter({ topic: config.mqtt.deadLetterTopic, gatewayId: config.gatewayId });
    this.#deadLetter = deadLetter;
    const spool = buildSpool(config, logger);
    this.#spool = spool;
    const commands = new CommandPublisher();
    // Built once: its alias maps and seq state outlive every router a reload builds.
    this.#sparkplug = buildSparkplugHost(config, commands, logger);
    const sparkplug = this.#sparkplug;
    this.#notifier = options.notifier ?? new SystemdNotifier({ env: process.env, logger: logger.child({ part: 'systemd' }) });
    this.#reloads = new ReloadStatus(options.configSource ?? 'environment and flags', Date.now());
    this.#slots = config.sinks.map((s) => s.name);
    this.#sinkViews = [];
    this.view = {
      gatewayId: config.gatewayId,
      version: options.version,
      startedAt: Date.now(),
      source: sourceStats,
      deadLetter: deadLetter.stats,
      sinks: this.#sinkViews,
      recent,
      spool: () => spool.stats(),
      shuttingDown: () => this.#shuttingDown,
      orphanedSinks: () => this.#orphanedSinks,
      config: () => this.#reloads.report(),
      reloads: () => this.#reloads.results,
      sparkplug: sparkplug?.stats,
      deadband: this.#deadband,
      // Read only once constructed: the source is built below.
      connections: () =>
        this.#source.connections.map((c) => ({
          clientId: c.clientId,
          connected: c.stats.connected,
          received: c.stats.received,
          connects: c.stats.connects,
        })),
    };
    this.#metrics = new GatewayMetrics(this.view);
    // The disk spool's cursors exist only once it is open (they come from its checkpoints): resolve lazily.
    this.#sinks = config.sinks.map((c, index) => this.#buildSinkPart(c, index, lazyCursor(spool, index)));
    this.#sinkViews.push(...this.#sinks.map((p) => p.view));
    // The status page's route tester: the routes of this config, nothing written (the --dry-run code).
    this.#explainer = new MessageExplainer(config);
    this.health = new HealthServer({
      host: config.http.host,
      port: config.http.port,
      token: config.http.token,
      view: this.view,
      metrics: this.#metrics,
      logger,
      tryRoute: (topic, payload, properties) => this.#explainer.explain(topic, payload, Date.now(), properties),
      ...(options.load === undefined ? {} : { reload: () => this.reload(options.load!) }),
    });
    this.#router = this.#buildRouter(config);
    // The gateway's own Sparkplug STATE (sparkplug.hostId): on the connection, and told of deaths on its topic.
    const hostState =
      config.sparkplug.hostId === ''
        ? undefined
        : new HostState({ hostId: config.sparkplug.hostId, logger: logger.child({ part: 'sparkplug' }) });
    // Every verdict is also shown to the status page's recent messages (a slot assignment for an accepted one).
    const router = {
      route: (topic: string, payload: Buffer, receivedAt: number, properties: MessageProperties | undefined) => {
        const result = this.#router.route(topic, payload, receivedAt, properties);
        recent.observe(topic, payload, result, receivedAt);
        hostState?.observe(topic, payload);
        return result;
      },
    };
    // Next to the spool, so that a wiped spool directory is a new installation for the session check too.
    // One marker per connection: `mqtt-session.json` with one connection (as before), `mqtt-session-<i>.json` else.
    const { dir } = config.spool;
    const sessionMarker =
      config.spool.type === 'disk'
        ? (i: number) => new SessionMarker({ file: join(dir, sessionMarkerName(config.mqtt.connections, i)) })
        : undefined;
    this.#source = new MqttSourceGroup({
      config: config.mqtt,
      router,
      spool,
      stats: connectionStats,
      logger,
      collapsed: this.#collapsed,
      deadLetter,
      commands,
      ...(hostState === undefined ? {} : { presence: hostState }),
      ...(sessionMarker === undefined ? {} : { sessionMarker }),
    });
    const source = this.#source;

    this.#stages = [
      { name: 'spool', parts: () => [{ name: 'spool', start: () => spool.open(), stop: () => spool.close() }] },
      { name: 'health', parts: () => [{ name: 'health server', start: () => this.health.start(), stop: () => this.health.stop() }] },
      {
        name: 'sinks',
        parts: () => this.#sinks.map(({ sink }) => ({ name: `sink ${sink.name}`, start: () => sink.start(), stop: () => sink.stop() })),
      },
      {
        name: 'workers',
        parts: () =>
          this.#sinks.map(({ worker: w }) => ({
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
    const config = this.#config;
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
    if (config.spool.type === 'disk') this.#warnRetiredSessions(config);
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
    const { logger } = this.#options;
    if (this.#shuttingDown) return { result: 'failed', message: 'shutting down' };
    if (!this.#started) {
      const outcome: ReloadOutcome = {
        result: 'failed',
        message: 'reload refused: the gateway is still starting; send SIGHUP again once it is up',
      };
      this.#reloads.refused('failed', outcome.message, Date.now());
      logger.error(outcome.message);
      return outcome;
    }
    this.#notifier.reloading?.();
    try {
      const outcome = await this.#loadAndApply(load);
      if (outcome.result === 'applied') {
        this.#logOutcome({ generation: this.#reloads.generation, source: this.#reloads.report().source }, outcome.message);
      } else if (outcome.result === 'unchanged') {
        this.#reloads.unchanged();
        this.#logOutcome({ generation: this.#reloads.generation }, outcome.message);
      } else {
        this.#reloads.refused(outcome.result, outcome.message, Date.now());
        logger.error({ result: outcome.result, err: outcome.message }, 'reload refused: the running configuration goes on unchanged');
      }
      return outcome;
    } finally {
      this.#notifier.ready(this.#readyStatus());
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
    const slotsLeft = MAX_SINKS - this.#slots.length;
    if (diff.sinksAdded.length > slotsLeft)
      restart.push(`sinks (${diff.sinksAdded.length} added, ${slotsLeft} sink slots left until a restart)`);
    // The Sparkplug host (alias maps, seq state, its store) is built at start only when a route needs it.
    if (this.#sparkplug === undefined && next.routes.some((r) => r.format === 'sparkplug'))
      restart.push('routes (a first route with format sparkplug)');
    if (restart.length > 0) return { result: 'restart_required', message: `needs a restart to change: ${restart.join(', ')}` };
    if (diff.liveKeys.length === 0) return { result: 'unchanged', message: 'reload: configuration unchanged' };
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
    this.#reloads.applied(loaded.source, Date.now());
    return { result: 'applied', message: `configuration reloaded: ${diff.liveKeys.join(', ')}` };
  }

  /** In an order that loses nothing: new sinks exist before a route can address them, removed ones go after. */
  async #apply(diff: ConfigDiff, next: Config): Promise<void> {
    const { logger } = this.#options;
    if (diff.logLevel !== undefined) logger.level = diff.logLevel; // children follow (they inherit it from the root)
    for (const t of diff.sinksTuned) this.#sinks.find((p) => p.config.name === t.name)?.worker.reconfigure(t.batch, t.resilience);
    // Guarded by name: after a reload that failed half-way, the next one may list a sink that is already there.
    for (const c of diff.sinksAdded) if (!this.#sinks.some((p) => p.config.name === c.name)) await this.#addSink(c);
    // Synchronous: the source calls the new router from its next message on.
    if (diff.router) {
      this.#router = this.#buildRouter(next, this.#slots);
      this.#explainer = new MessageExplainer(next);
    }
    for (const name of diff.sinksRemoved) if (this.#sinks.some((p) => p.config.name === name)) await this.#removeSink(name);
    const { subscribe, unsubscribe } = diff.subscriptions;
    if (subscribe.length > 0 || unsubscribe.length > 0) this.#source.updateSubscriptions(next.mqtt.subscriptions, subscribe, unsubscribe);
    this.#config = next;
    this.#warnUncovered(next);
  }

  async #addSink(config: SinkConfig): Promise<void> {
    const { logger } = this.#options;
    const index = this.#spool.addSink(config.name);
    const part = this.#buildSinkPart(config, index, this.#spool.cursor(index));
    try {
      await part.sink.start();
    } catch (error) {
      this.#spool.removeSink(index);
      this.#slots[index] = undefined;
      throw error;
    }
    this.#slots[index] = config.name;
    part.worker.start();
    this.#sinks.push(part);
    this.#sinkViews.push(part.view);
    logger.info(
      { sink: config.name, type: config.type },
      "reload: sink added; it gets what arrives from now on (its cursor starts at the spool's tail)",
    );
  }

  async #removeSink(name: string): Promise<void> {
    const { logger } = this.#options;
    const at = this.#sinks.findIndex((p) => p.config.name === name);
    const part = this.#sinks[at]!;
    // The router no longer addresses it: stop at once (an attempt in flight is cut off), release its cursor.
    await part.worker.stop(Date.now());
    // A sink that fails to disconnect is gone all the same.
    await Promise.resolve(part.sink.stop()).catch((error: unknown) =>
      logger.warn({ sink: name, err: String(error) }, 'reload: the removed sink failed to stop'),
    );
    const dropped = this.#spool.removeSink(part.index);
    this.#slots[part.index] = undefined;
    this.#sinks.splice(at, 1);
    this.#sinkViews.splice(this.#sinkViews.indexOf(part.view), 1);
    logger.warn(
      { sink: name, droppedPoints: dropped },
      'reload: sink removed; its cursor is released and its backlog counted as dropped for it',
    );
  }

  #buildSinkPart(config: SinkConfig, index: number, cursor: SpoolCursor): SinkPart {
    const { logger, createSink } = this.#options;
    const sinkLogger = logger.child({ sink: config.name });
    // Each line a server refused goes to the dead letter with the server's message (nothing dropped unseen).
    const onRejected = (text: string, reason: string): void =>
      this.#deadLetter.offer('sink_rejected', reason, `sink:${config.name}`, Buffer.from(text, 'utf8'));
    const sink = createSink?.(config, sinkLogger) ?? buildSink(config, sinkLogger, this.#collapsed, onRejected);
    const stats = new SinkStats(config.name, config.type);
    const worker = new SinkWorker({
      sink,
      cursor,
      batch: config.batch,
      resilience: config.resilience,
      stats,
      logger: sinkLogger,
      onWrite: this.#metrics.writeObserver(config.name),
    });
    const view: SinkView = { stats, backlog: () => cursor.backlog(), dropped: () => cursor.dropped() };
    return { config, index, sink, worker, view };
  }

  #buildRouter(config: Config, sinkNames: readonly (string | undefined)[] = config.sinks.map((s) => s.name)): Router {
    return new Router({
      routes: config.routes,
      sinkNames,
      gatewayId: config.gatewayId,
      gatewayTag: config.gatewayTag,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      limits: limitsOf(config.mqtt),
      sparkplug: this.#sparkplug,
      deadbandStats: this.#deadband,
    });
  }

  #warnUncovered(config: Config): void {
    const subscriptions = config.mqtt.subscriptions.map((s) => s.topic);
    for (const filter of this.#router.filters) {
      if (!subscriptions.some((sub) => filterCovers(sub, filter))) {
        this.#options.logger.warn(
          { route: filter, subscriptions },
          'no subscription delivers every topic of this route: add one to mqtt.subscriptions',
        );
      }
    }
  }

  /**
   * A persistent session of a client id this gateway no longer connects with (mqtt.connections changed) stays at the
   * broker until it expires: in a share group it keeps taking its turn of the messages, which nobody reads; with a
   * plain filter it queues a copy of each. The gateway cannot tell what the broker still holds, so it says so.
   */
  #warnRetiredSessions(config: Config): void {
    const current = this.#source.connections.map((c) => c.clientId);
    for (const r of retiredSessions(config.spool.dir, current)) {
      this.#options.logger.warn(
        { clientId: r.clientId, broker: r.broker, markerFile: r.file, clientIds: current, sessionExpirySec: config.mqtt.sessionExpirySec },
        'the broker may still hold the persistent session of a client id this gateway no longer uses (mqtt.connections or mqtt.clientId changed): messages it takes (its turn of a shared subscription, or a copy of each with a plain one) wait there undelivered until the session expires; set mqtt.connections back, or end that session at the broker and delete the marker file',
      );
    }
  }

  #readyStatus(): string {
    return `${this.#config.gatewayId}: spool open, health on ${this.#config.http.host}:${this.health.port}`;
  }

  /** Idempotent; resolves after `exit` was called. */
  stop(exitCode = 0): Promise<void> {
    this.#stopped ??= this.#stop(exitCode);
    return this.#stopped;
  }

  async #stop(exitCode: number): Promise<void> {
    const { logger, exit } = this.#options;
    const config = this.#config;
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

/** The session marker file of connection `index` of `count`. */
export function sessionMarkerName(count: number, index: number): string {
  return count === 1 ? 'mqtt-session.json' : `mqtt-session-${index}.json`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The Sparkplug host when a route has `format: sparkplug`; its alias maps live next to the disk spool. */
function buildSparkplugHost(config: Config, commands: CommandPublisher, logger: Logger): SparkplugHost | undefined {
  if (!config.routes.some((r) => r.format === 'sparkplug')) return undefined;
  const c = config.sparkplug;
  return new SparkplugHost({
    stats: new SparkplugStats(),
    store: config.spool.type === 'disk' ? new SparkplugStore({ dir: join(config.spool.dir, 'sparkplug') }) : undefined,
    rebirth: c.rebirth,
    rebirthMinIntervalMs: c.rebirthMinIntervalMs,
    maxNodes: c.maxNodes,
    propertyTags: c.propertyTags,
    publish: (topic, payload) => commands.publish(topic, payload),
    onStoreError: (err) => logger.warn({ err }, 'Sparkplug alias maps not written (tried again in 5 s; the state in memory is right)'),
  });
}

function buildSpool(config: Config, logger: Logger): Spool {
  const c = config.spool;
  if (c.type === 'memory') return new MemorySpool({ maxBytes: c.maxBytes, overflow: c.overflow, sinkCount: config.sinks.length });
  return new DiskSpool({ ...c, sinks: config.sinks.map((s) => s.name), logger: logger.child({ part: 'spool' }) });
}

/** A cursor that asks the spool for the real one on first use (after `open()`). */
function lazyCursor(spool: Spool, index: number): SpoolCursor {
  let cursor: SpoolCursor | undefined;
  const get = (): SpoolCursor => (cursor ??= spool.cursor(index));
  return {
    backlog: () => (cursor === undefined ? { points: 0, bytes: 0, oldestAt: undefined } : cursor.backlog()),
    ready: (limits, signal) => get().ready(limits, signal),
    flushNow: () => cursor?.flushNow(),
    read: (limits) => get().read(limits),
    commit: (batch) => get().commit(batch),
    dropped: () => cursor?.dropped() ?? 0,
  };
}

function buildSink(config: SinkConfig, logger: Logger, collapsed: CollapsingLog, onRejected: RejectedPointsListener): Sink {
  switch (config.type) {
    case 'influx':
      return new InfluxSink({ config, onRejected });
    case 'redis':
      return new RedisSink({ config, logger, collapsed, onRejected });
  }
}
