/**
 * The publisher fleet: several `publisherChild.ts` processes, each with its MQTT connections and its own instance
 * of a pluggable message generator (a module exporting `createGenerator`, see MessageGenerator.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildConfig, ChildMessage, ChildStats } from './publisherChild.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'publisherChild.ts');

/** What every child gets as it is (see ChildConfig), plus the totals the fleet shares out over its children. */
export interface FleetOptions extends Pick<ChildConfig, 'url' | 'qos' | 'clientIdPrefix' | 'window' | 'durationMs' | 'generator'> {
  /** Child processes. */
  children: number;
  /** MQTT connections of each child. */
  connectionsPerChild: number;
  /** Flat out: this many messages in all (shared out over the children). */
  count?: number;
  /** Fixed rate: msg/s in all, for durationMs or until stop(). */
  rate?: number;
  /** The generator's options for child i (plain JSON). */
  generatorOptions: (child: number) => unknown;
}

export interface FleetResult extends Pick<ChildStats, 'sent' | 'acked' | 'failed' | 'firstError'> {
  /** Epoch ms when the start signal went out. */
  startedAt: number;
  /** Epoch ms of the last acknowledgement. */
  endedAt: number;
  /** Achieved publish rate, msg/s (acked / the longest child's publishing time). */
  rate: number;
  /** Every child's generator summary, by child index. */
  summaries: unknown[];
}

/** An even share of total for part i of parts (the first ones get the remainder). */
export const share = (total: number, parts: number, i: number): number => Math.floor(total / parts) + (i < total % parts ? 1 : 0);

export class Fleet {
  readonly #children: ChildProcess[];
  readonly #done: Promise<ChildStats>[];
  #startedAt = 0;

  private constructor(children: ChildProcess[], done: Promise<ChildStats>[]) {
    this.#children = children;
    this.#done = done;
  }

  /** Forks the children and waits until every one is connected. */
  static async launch(opts: FleetOptions): Promise<Fleet> {
    const children: ChildProcess[] = [];
    const ready: Promise<void>[] = [];
    const done: Promise<ChildStats>[] = [];
    for (let i = 0; i < opts.children; i++) {
      const config: ChildConfig = {
        url: opts.url,
        index: i,
        children: opts.children,
        qos: opts.qos,
        clientIdPrefix: opts.clientIdPrefix,
        connections: opts.connectionsPerChild,
        window: opts.window,
        generator: opts.generator,
        generatorOptions: opts.generatorOptions(i),
        ...(opts.count !== undefined ? { count: share(opts.count, opts.children, i) } : {}),
        ...(opts.rate !== undefined ? { rate: opts.rate / opts.children } : {}),
        ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : {}),
      };
      const child = fork(CHILD, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const exited = new Promise<never>((_, reject) =>
        child.once('exit', (code, signal) => reject(new Error(`publisher ${i} exited (${code ?? signal}) before it was done`))),
      );
      exited.catch(() => undefined);
      const message = <T>(pick: (m: ChildMessage, resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> =>
        Promise.race([new Promise<T>((resolve, reject) => child.on('message', (m: ChildMessage) => pick(m, resolve, reject))), exited]);
      ready.push(
        message<void>((m, resolve, reject) => {
          if (m.type === 'ready') resolve();
          if (m.type === 'error') reject(new Error(`publisher ${i}: ${m.message}`));
        }),
      );
      done.push(message<ChildStats>((m, resolve) => m.type === 'done' && resolve(m.stats)));
    }
    const fleet = new Fleet(children, done);
    try {
      await Promise.all(ready);
    } catch (err) {
      fleet.kill();
      throw err;
    }
    return fleet;
  }

  get pids(): number[] {
    return this.#children.map((c) => c.pid ?? 0);
  }

  /** Sends the start signal; returns its epoch ms. */
  start(): number {
    this.#startedAt = Date.now();
    for (const c of this.#children) c.send({ type: 'start' });
    return this.#startedAt;
  }

  /** Rate mode without a duration: stop publishing (then await done()). */
  stop(): void {
    for (const c of this.#children) if (c.connected) c.send({ type: 'stop' });
  }

  async done(): Promise<FleetResult> {
    const all = await Promise.all(this.#done);
    const acked = all.reduce((s, x) => s + x.acked, 0);
    const seconds = Math.max(...all.map((x) => x.seconds));
    return {
      sent: all.reduce((s, x) => s + x.sent, 0),
      acked,
      failed: all.reduce((s, x) => s + x.failed, 0),
      firstError: all.find((x) => x.firstError !== null)?.firstError ?? null,
      startedAt: this.#startedAt,
      endedAt: Math.max(...all.map((x) => x.endedAt)),
      rate: seconds > 0 ? acked / seconds : 0,
      summaries: all.map((x) => x.summary),
    };
  }

  kill(): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
