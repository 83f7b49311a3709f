import type { Logger } from 'pino';
import type { BatchConfig, ResilienceConfig, SinkConfig } from '../config/Config.ts';
import type { SinkView } from '../health/GatewayView.ts';
import type { CollapsingLog } from '../log/CollapsingLog.ts';
import type { Spool, SpoolCursor } from '../spool/Spool.ts';
import type { Sink } from '../sinks/Sink.ts';
import { InfluxSink } from '../sinks/influx/InfluxSink.ts';
import { RedisSink } from '../sinks/redis/RedisSink.ts';
import type { RejectedPointsListener } from '../sinks/isolateBadPoints.ts';
import type { ResolvedTls } from '../tls/resolveTls.ts';
import { SinkStats } from '../stats/SinkStats.ts';
import { SinkWorker } from './SinkWorker.ts';

/** One sink as it runs: its slot in the spool (the bit of its entries), the sink, its worker and its figures. */
export interface SinkPart {
  readonly config: SinkConfig;
  readonly index: number;
  readonly sink: Sink;
  readonly worker: SinkWorker;
  readonly view: SinkView;
}

export interface SinkSetOptions {
  readonly configs: readonly SinkConfig[];
  readonly spool: Spool;
  readonly logger: Logger;
  readonly collapsed: CollapsingLog;
  /** The running sinks' figures (`view.sinks` of the gateway): kept in step with the parts, changed in place. */
  readonly views: SinkView[];
  /** Where each line a server refused goes (the dead letter), for the sink `name`. */
  readonly onRejected: (name: string) => RejectedPointsListener;
  /** The write-size and latency histograms of the sink `name`. */
  readonly writeObserver: (name: string) => (points: number, seconds: number) => void;
  /** Replaces the sink built for a config entry (tests inject fakes); undefined = the real one. */
  readonly createSink?: ((config: SinkConfig, logger: Logger) => Sink | undefined) | undefined;
}

/**
 * The sinks of the running gateway with their workers and spool slots: those of the start's configuration, then
 * those reloads add or remove. A slot (the sink's bit in the spool's entries) is not reused while the process
 * runs: `slots` keeps the name of each, undefined once removed, and the router addresses sinks by it.
 */
export class SinkSet {
  readonly #options: SinkSetOptions;
  readonly #parts: SinkPart[];
  readonly #slots: (string | undefined)[];

  constructor(options: SinkSetOptions) {
    this.#options = options;
    const { configs, spool, views } = options;
    this.#slots = configs.map((s) => s.name);
    // The disk spool's cursors exist only once it is open (they come from its checkpoints): resolve lazily.
    this.#parts = configs.map((c, index) => this.#build(c, index, lazyCursor(spool, index)));
    views.push(...this.#parts.map((p) => p.view));
  }

  /** The running parts, in slot order (the stages start and stop them). */
  get parts(): readonly SinkPart[] {
    return this.#parts;
  }

  /** The sink name of each spool slot, undefined where one was removed (what the router addresses). */
  get slots(): readonly (string | undefined)[] {
    return this.#slots;
  }

  has(name: string): boolean {
    return this.#parts.some((p) => p.config.name === name);
  }

  /** A reload's new `batch.*` / `resilience.*` of a kept sink: its worker takes them. */
  tune(name: string, batch: BatchConfig, resilience: ResilienceConfig): void {
    this.#parts.find((p) => p.config.name === name)?.worker.reconfigure(batch, resilience);
  }

  /** A reload's renewed TLS material of a kept sink: its next writes use it (see Sink.renewTls). */
  async renewTls(name: string, tls: ResolvedTls): Promise<void> {
    const part = this.#parts.find((p) => p.config.name === name);
    if (part === undefined) return;
    if (part.sink.renewTls === undefined) throw new Error(`sink ${name} cannot take renewed TLS material: restart`);
    await part.sink.renewTls(tls);
    this.#options.logger.info({ sink: name, tls: tls.label }, 'reload: renewed TLS material in use for the next writes');
  }

  /** A reload's new sink: a new spool slot whose cursor starts at the tail, started before the router addresses it. */
  async add(config: SinkConfig): Promise<void> {
    const { spool, views, logger } = this.#options;
    const index = spool.addSink(config.name);
    const part = this.#build(config, index, spool.cursor(index));
    try {
      await part.sink.start();
    } catch (error) {
      spool.removeSink(index);
      this.#slots[index] = undefined;
      throw error;
    }
    this.#slots[index] = config.name;
    part.worker.start();
    this.#parts.push(part);
    views.push(part.view);
    logger.info(
      { sink: config.name, type: config.type },
      "reload: sink added; it gets what arrives from now on (its cursor starts at the spool's tail)",
    );
  }

  /** A reload's removed sink, once the router no longer addresses it: stopped, its cursor released. */
  async remove(name: string): Promise<void> {
    const { spool, views, logger } = this.#options;
    const at = this.#parts.findIndex((p) => p.config.name === name);
    const part = this.#parts[at]!;
    // Stop at once (an attempt in flight is cut off).
    await part.worker.stop(Date.now());
    // A sink that fails to disconnect is gone all the same.
    await Promise.resolve(part.sink.stop()).catch((error: unknown) =>
      logger.warn({ sink: name, err: String(error) }, 'reload: the removed sink failed to stop'),
    );
    const dropped = spool.removeSink(part.index);
    this.#slots[part.index] = undefined;
    this.#parts.splice(at, 1);
    views.splice(views.indexOf(part.view), 1);
    logger.warn(
      { sink: name, droppedPoints: dropped },
      'reload: sink removed; its cursor is released and its backlog counted as dropped for it',
    );
  }

  #build(config: SinkConfig, index: number, cursor: SpoolCursor): SinkPart {
    const { logger, createSink, collapsed, onRejected, writeObserver } = this.#options;
    const sinkLogger = logger.child({ sink: config.name });
    const sink = createSink?.(config, sinkLogger) ?? buildSink(config, sinkLogger, collapsed, onRejected(config.name));
    const stats = new SinkStats(config.name, config.type);
    const worker = new SinkWorker({
      sink,
      cursor,
      batch: config.batch,
      resilience: config.resilience,
      stats,
      logger: sinkLogger,
      onWrite: writeObserver(config.name),
    });
    const view: SinkView = { stats, backlog: () => cursor.backlog(), dropped: () => cursor.dropped() };
    return { config, index, sink, worker, view };
  }
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
