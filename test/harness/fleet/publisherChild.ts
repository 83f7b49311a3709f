/**
 * One member of the publisher fleet, run as a child process (`fork`) so its CPU is not counted in the gateway's
 * or a subscriber's and it does not share their event loop. It loads the message generator named in its config
 * and publishes flat out (`count` messages, each connection keeping `window` unacknowledged) or at a fixed rate.
 *
 *   argv[2] = JSON ChildConfig. IPC: → {type:'ready'} once connected; ← {type:'start'}; ← {type:'stop'} (rate
 *   mode without a duration); → {type:'done', stats}.
 */
import { pathToFileURL } from 'node:url';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { CreateGenerator, MessageGenerator } from './MessageGenerator.ts';

export interface ChildConfig {
  url: string;
  index: number;
  children: number;
  qos: 0 | 1;
  clientIdPrefix: string;
  connections: number;
  /** Unacknowledged (QoS 1) / unwritten (QoS 0) publishes allowed per connection. */
  window: number;
  /** Flat out: publish exactly this many messages as fast as the window allows. */
  count?: number;
  /** Fixed rate (msg/s of this child); runs for durationMs, or until {type:'stop'}. */
  rate?: number;
  durationMs?: number;
  /** Absolute path of the generator module and its options. */
  generator: string;
  generatorOptions: unknown;
}

export interface ChildStats {
  index: number;
  sent: number;
  acked: number;
  failed: number;
  firstError: string | null;
  startedAt: number;
  /** Time the last publish was acknowledged (QoS 1) / written (QoS 0). */
  endedAt: number;
  /** Time spent publishing, for the achieved rate. */
  seconds: number;
  /** The generator's summary(). */
  summary: unknown;
}

export type ChildMessage = { type: 'ready' } | { type: 'done'; stats: ChildStats } | { type: 'error'; message: string };

async function connectAll(config: ChildConfig, send: (m: ChildMessage) => void): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let c = 0; c < config.connections; c++) {
    const client = await connectAsync(config.url, {
      clientId: `${config.clientIdPrefix}-${config.index}-${c}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 4,
    });
    client.on('error', (err) => send({ type: 'error', message: err.message }));
    // QoS 0 publishes past the socket's high-water mark each wait for 'drain': up to `window` listeners.
    client.stream.setMaxListeners(0);
    clients.push(client);
  }
  return clients;
}

/** The child's connections and counters: publishes the generator's messages, each connection within its window. */
class Pump {
  readonly #config: ChildConfig;
  readonly #clients: MqttClient[];
  readonly #gen: MessageGenerator;
  readonly #inFlight: number[];
  readonly #pumping: boolean[];
  sent = 0;
  acked = 0;
  failed = 0;
  firstError: string | null = null;
  endedAt = 0;
  /** Called after every acknowledgement (or failure). */
  onSettled: (() => void) | undefined;

  constructor(config: ChildConfig, clients: MqttClient[], gen: MessageGenerator) {
    this.#config = config;
    this.#clients = clients;
    this.#gen = gen;
    this.#inFlight = new Array<number>(config.connections).fill(0);
    this.#pumping = new Array<boolean>(config.connections).fill(false);
  }

  /** Publishes one message on connection conn; returns false when that connection's window is full. */
  publishOne(conn: number): boolean {
    if (this.#inFlight[conn]! >= this.#config.window) return false;
    const m = this.#gen.next(this.sent++, Date.now());
    this.#inFlight[conn]!++;
    this.#clients[conn]!.publish(m.topic, m.payload, { qos: this.#config.qos }, (err) => {
      this.#inFlight[conn]!--;
      if (err) {
        this.failed++;
        this.firstError ??= err.message;
      } else this.acked++;
      this.endedAt = Date.now();
      if (this.#config.count !== undefined) this.pump(conn);
      this.onSettled?.();
    });
    return true;
  }

  /**
   * Flat-out mode: keeps connection conn's window full until count messages are sent. QoS 0 callbacks run
   * synchronously while the socket takes the data: the flag keeps that from recursing.
   */
  pump(conn: number): void {
    if (this.#pumping[conn]) return;
    this.#pumping[conn] = true;
    while (this.#config.count !== undefined && this.sent < this.#config.count && this.publishOne(conn));
    this.#pumping[conn] = false;
  }

  /** Resolves once every message sent so far is settled (or after timeoutMs). */
  settled(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    return new Promise<void>((resolve) => {
      const deadline = Date.now() + timeoutMs;
      this.onSettled = () => {
        if (this.acked + this.failed >= this.sent || Date.now() > deadline) resolve();
      };
      this.onSettled();
      if (Number.isFinite(timeoutMs)) setTimeout(resolve, timeoutMs).unref();
    });
  }
}

/** Fixed-rate mode: `rate` msg/s round robin over the connections, for durationMs or until stopping(); returns the seconds. */
function atRate(config: ChildConfig, pump: Pump, stopping: () => boolean): Promise<number> {
  const rate = config.rate ?? 1000;
  const t0 = performance.now();
  let scheduled = 0;
  let conn = 0;
  return new Promise<number>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      if (stopping() || (config.durationMs !== undefined && elapsed >= config.durationMs)) {
        clearInterval(timer);
        resolve(elapsed / 1000);
        return;
      }
      const due = Math.floor((elapsed * rate) / 1000) - scheduled;
      for (let i = 0; i < due; i++) {
        // Round robin over the connections; when every window is full the rest waits for the next tick.
        let ok = false;
        for (let tries = 0; tries < config.connections && !ok; tries++) {
          ok = pump.publishOne(conn);
          conn = (conn + 1) % config.connections;
        }
        if (!ok) break;
        scheduled++;
      }
    }, 5);
  });
}

async function main(config: ChildConfig): Promise<void> {
  const send = (m: ChildMessage): void => void process.send?.(m);
  const { createGenerator } = (await import(pathToFileURL(config.generator).href)) as { createGenerator: CreateGenerator };
  const gen: MessageGenerator = createGenerator(config.generatorOptions, { index: config.index, children: config.children });
  const clients = await connectAll(config, send);
  const pump = new Pump(config, clients, gen);
  let stopping = false;
  await new Promise<void>((resolve) => {
    process.on('message', (m: { type: string }) => {
      if (m.type === 'start') resolve();
      if (m.type === 'stop') stopping = true;
    });
    send({ type: 'ready' });
  });
  const startedAt = Date.now();
  pump.endedAt = startedAt;
  let seconds: number;
  if (config.count !== undefined) {
    for (let c = 0; c < config.connections; c++) pump.pump(c);
    await new Promise<void>((resolve) => {
      const count = config.count!;
      pump.onSettled = () => {
        if (pump.acked + pump.failed >= count) resolve();
      };
      pump.onSettled();
    });
    seconds = (pump.endedAt - startedAt) / 1000;
  } else {
    seconds = await atRate(config, pump, () => stopping);
    await pump.settled(30_000);
  }
  const { sent, acked, failed, firstError, endedAt } = pump;
  const stats: ChildStats = { index: config.index, sent, acked, failed, firstError, startedAt, endedAt, seconds, summary: gen.summary() };
  await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  send({ type: 'done', stats });
  process.disconnect?.();
}

if (import.meta.main) {
  main(JSON.parse(process.argv[2] ?? '{}') as ChildConfig).catch((err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
