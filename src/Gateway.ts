import { findOrphanedSinks, type OrphanedSink } from './workers/findOrphanedSinks.ts';
import type { Logger } from 'pino';
import type { Config, SinkConfig } from './config/Config.ts';
import type { SpoolCursor } from './spool/Spool.ts';
import { CollapsingLog } from './log/CollapsingLog.ts';
import { Router } from './pipeline/Router.ts';
import { limitsOf } from './pipeline/PointLimits.ts';
import { filterCovers } from './topic/filterCovers.ts';
import { MemorySpool } from './spool/MemorySpool.ts';
import { DiskSpool } from './spool/disk/DiskSpool.ts';
import type { Spool } from './spool/Spool.ts';
import type { Sink } from './sinks/Sink.ts';
import { InfluxSink } from './sinks/influx/InfluxSink.ts';
import { RedisSink } from './sinks/redis/RedisSink.ts';
import type { RejectedPointsListener } from './sinks/isolateBadPoints.ts';
import { SinkWorker } from './workers/SinkWorker.ts';
import { MqttSource } from './source/MqttSource.ts';
import { DeadLetter } from './source/DeadLetter.ts';
import { HealthServer } from './health/HealthServer.ts';
import { MessageExplainer } from './explain/MessageExplainer.ts';
import { GatewayMetrics } from './health/GatewayMetrics.ts';
import { SystemdNotifier, type ServiceNotifier } from './health/SystemdNotifier.ts';
import type { GatewayView, SinkView } from './health/GatewayView.ts';
import { SourceStats } from './stats/SourceStats.ts';
import { RecentMessages } from './stats/RecentMessages.ts';
import { SinkStats } from './stats/SinkStats.ts';
import { insecureTls } from './tls/insecureTls.ts';

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
}

/** One step of start-up; the parts of a stage start and stop together. */
interface Stage {
  readonly name: string;
  readonly parts: readonly { readonly name: string; start(): Promise<void> | void; stop(): Promise<void> | void }[];
}

/**
 * The composition root: builds every part from the config, starts the stages in order — spool, health server,
 * sinks, workers, MQTT source — and stops them in reverse: the source stops taking messages, the workers drain
 * until the shutdown deadline, the sinks disconnect, the health server (answering "shutting down" until then)
 * closes, the spool closes. A part that fails to stop is logged and the rest still stop.
 */
export class Gateway {
  readonly view: GatewayView;
  readonly health: HealthServer;
  readonly #options: GatewayOptions;
  readonly #stages: Stage[];
  readonly #notifier: ServiceNotifier;
  #shuttingDown = false;
  readonly #routeFilters: readonly string[];
  #drainDeadline = 0;
  #stopped: Promise<void> | undefined;
  readonly #orphanedSinks: OrphanedSink[] = [];

  constructor(options: GatewayOptions) {
    this.#options = options;
    const { config, logger } = options;
    const collapsed = new CollapsingLog({ logger, intervalMs: config.log.collapseIntervalMs });
    const sourceStats = new SourceStats();
    const recent = new RecentMessages();
    const deadLetter = new DeadLetter({ topic: config.mqtt.deadLetterTopic, gatewayId: config.gatewayId });
    const spool = buildSpool(config, logger);
    this.#notifier = options.notifier ?? new SystemdNotifier({ env: process.env, logger: logger.child({ part: 'systemd' }) });

    const sinks = config.sinks.map((c, index) => {
      const sinkLogger = logger.child({ sink: c.name });
      // Each line a server refused goes to the dead letter with the server's message (nothing dropped unseen).
      const onRejected = (text: string, reason: string): void =>
        deadLetter.offer('sink_rejected', reason, `sink:${c.name}`, Buffer.from(text, 'utf8'));
      const sink = options.createSink?.(c, sinkLogger) ?? buildSink(c, sinkLogger, collapsed, onRejected);
      // The disk spool's cursors exist only once it is open (they come from its checkpoints): resolve lazily.
      return { config: c, sink, logger: sinkLogger, stats: new SinkStats(c.name, c.type), cursor: lazyCursor(spool, index) };
    });
    const sinkViews: SinkView[] = sinks.map((s) => ({
      stats: s.stats,
      backlog: () => s.cursor.backlog(),
      dropped: () => s.cursor.dropped(),
    }));
    this.view = {
      gatewayId: config.gatewayId,
      version: options.version,
      startedAt: Date.now(),
      source: sourceStats,
      deadLetter: deadLetter.stats,
      sinks: sinkViews,
      recent,
      spool: () => spool.stats(),
      shuttingDown: () => this.#shuttingDown,
      orphanedSinks: () => this.#orphanedSinks,
    };
    const metrics = new GatewayMetrics(this.view);
    // The status page's route tester: the routes of this config, nothing written (the --dry-run code).
    const explainer = new MessageExplainer(config);
    const workers = sinks.map(
      (s) =>
        new SinkWorker({
          sink: s.sink,
          cursor: s.cursor,
          batch: s.config.batch,
          resilience: s.config.resilience,
          stats: s.stats,
          logger: s.logger,
          onWrite: metrics.writeObserver(s.config.name),
        }),
    );
    this.health = new HealthServer({
      host: config.http.host,
      port: config.http.port,
      token: config.http.token,
      view: this.view,
      metrics,
      logger,
      tryRoute: (topic, payload, properties) => explainer.explain(topic, payload, Date.now(), properties),
    });
    const router = new Router({
      routes: config.routes,
      sinkNames: config.sinks.map((s) => s.name),
      gatewayId: config.gatewayId,
      gatewayTag: config.gatewayTag,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      limits: limitsOf(config.mqtt),
    });
    // Every verdict is also shown to the status page's recent messages (a slot assignment for an accepted one).
    const observed = {
      route: (topic: string, payload: Buffer, receivedAt: number) => {
        const result = router.route(topic, payload, receivedAt);
        recent.observe(topic, payload, result, receivedAt);
        return result;
      },
    };
    const source = new MqttSource({ config: config.mqtt, router: observed, spool, stats: sourceStats, logger, collapsed, deadLetter });
    this.#routeFilters = router.filters;

    this.#stages = [
      { name: 'spool', parts: [{ name: 'spool', start: () => spool.open(), stop: () => spool.close() }] },
      { name: 'health', parts: [{ name: 'health server', start: () => this.health.start(), stop: () => this.health.stop() }] },
      {
        name: 'sinks',
        parts: sinks.map(({ sink }) => ({ name: `sink ${sink.name}`, start: () => sink.start(), stop: () => sink.stop() })),
      },
      {
        name: 'workers',
        parts: workers.map((w) => ({ name: `worker ${w.name}`, start: () => w.start(), stop: () => w.stop(this.#drainDeadline) })),
      },
      { name: 'source', parts: [{ name: 'mqtt source', start: () => source.start(), stop: () => source.stop(this.#drainDeadline) }] },
    ];
  }

  async start(): Promise<void> {
    const { logger, config } = this.#options;
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
    const subscriptions = config.mqtt.subscriptions.map((s) => s.topic);
    for (const filter of this.#routeFilters) {
      if (!subscriptions.some((sub) => filterCovers(sub, filter))) {
        logger.warn({ route: filter, subscriptions }, 'no subscription delivers every topic of this route: add one to mqtt.subscriptions');
      }
    }
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
      await Promise.all(stage.parts.map((p) => p.start()));
      // Spool open and /healthz answering: up for the service manager, whether or not the broker is reachable.
      if (stage.name === 'health')
        this.#notifier.ready(`${config.gatewayId}: spool open, health on ${config.http.host}:${this.health.port}`);
    }
    logger.info(
      { gatewayId: config.gatewayId, sinks: config.sinks.map((s) => `${s.name}(${s.type})`), routes: config.routes.length },
      'edgebridge started',
    );
  }

  /** Idempotent; resolves after `exit` was called. */
  stop(exitCode = 0): Promise<void> {
    this.#stopped ??= this.#stop(exitCode);
    return this.#stopped;
  }

  async #stop(exitCode: number): Promise<void> {
    const { logger, config, exit } = this.#options;
    this.#notifier.stopping();
    this.#shuttingDown = true;
    this.#drainDeadline = Date.now() + config.shutdown.timeoutMs;
    logger.info({ timeoutMs: config.shutdown.timeoutMs }, 'stopping');
    let failed = false;
    for (const stage of [...this.#stages].reverse()) {
      // Parts of one stage stop in parallel: one sink's outage must not eat the other's share of the deadline.
      const results = await Promise.allSettled(stage.parts.map(async (p) => p.stop()));
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          failed = true;
          logger.error({ part: stage.parts[i]!.name, err: String(r.reason) }, 'part failed to stop');
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
