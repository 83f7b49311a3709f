/** The publisher fleet: several `publisher.ts` child processes, each with its devices and MQTT connections. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PublisherConfig, PublisherMessage, PublisherStats } from './publisher.ts';

const PUBLISHER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'publisher.ts');

/** What every child gets as it is (see PublisherConfig), plus the totals the fleet shares out over its children. */
export interface FleetOptions
  extends Pick<PublisherConfig, 'url' | 'qos' | 'topicPrefix' | 'measurement' | 'durationMs' | 'window' | 'probeEvery' | 'extraFields'> {
  /** Child processes. */
  children: number;
  /** Devices in all (shared out over the children). */
  devices: number;
  connectionsPerChild: number;
  /** Flat out: this many messages in all. */
  count?: number;
  /** Fixed rate: msg/s in all, for durationMs or until stop(). */
  rate?: number;
}

export interface FleetResult {
  sent: number;
  acked: number;
  failed: number;
  probes: number;
  /** Epoch ms when the start signal went out. */
  startedAt: number;
  /** Epoch ms of the last acknowledgement. */
  endedAt: number;
  /** Achieved publish rate, msg/s (acked / the longest child's publishing time). */
  rate: number;
}

const share = (total: number, parts: number, i: number): number => Math.floor(total / parts) + (i < total % parts ? 1 : 0);

export class Fleet {
  readonly #children: ChildProcess[];
  readonly #done: Promise<PublisherStats>[];
  #startedAt = 0;

  private constructor(children: ChildProcess[], done: Promise<PublisherStats>[]) {
    this.#children = children;
    this.#done = done;
  }

  /** Forks the children and waits until every one is connected. */
  static async launch(opts: FleetOptions): Promise<Fleet> {
    const children: ChildProcess[] = [];
    const ready: Promise<void>[] = [];
    const done: Promise<PublisherStats>[] = [];
    let offset = 0;
    for (let i = 0; i < opts.children; i++) {
      const devices = share(opts.devices, opts.children, i);
      const config: PublisherConfig = {
        url: opts.url,
        index: i,
        qos: opts.qos,
        topicPrefix: opts.topicPrefix,
        measurement: opts.measurement,
        devices,
        deviceOffset: offset,
        connections: opts.connectionsPerChild,
        window: opts.window,
        probeEvery: opts.probeEvery,
        ...(opts.extraFields ? { extraFields: opts.extraFields } : {}),
        ...(opts.count !== undefined ? { count: share(opts.count, opts.children, i) } : {}),
        ...(opts.rate !== undefined ? { rate: opts.rate / opts.children } : {}),
        ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : {}),
      };
      offset += devices;
      const child = fork(PUBLISHER, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const exited = new Promise<never>((_, reject) =>
        child.once('exit', (code, signal) => reject(new Error(`publisher ${i} exited (${code ?? signal}) before it was done`))),
      );
      exited.catch(() => undefined);
      ready.push(
        Promise.race([
          new Promise<void>((resolve, reject) =>
            child.on('message', (m: PublisherMessage) => {
              if (m.type === 'ready') resolve();
              if (m.type === 'error') reject(new Error(`publisher ${i}: ${m.message}`));
            }),
          ),
          exited,
        ]),
      );
      done.push(
        Promise.race([
          new Promise<PublisherStats>((resolve) =>
            child.on('message', (m: PublisherMessage) => {
              if (m.type === 'done') resolve(m.stats);
            }),
          ),
          exited,
        ]),
      );
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
      probes: all.reduce((s, x) => s + x.probes, 0),
      startedAt: this.#startedAt,
      endedAt: Math.max(...all.map((x) => x.endedAt)),
      rate: seconds > 0 ? acked / seconds : 0,
    };
  }

  kill(): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
