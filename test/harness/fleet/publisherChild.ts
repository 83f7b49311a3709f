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

async function main(config: ChildConfig): Promise<void> {
  const send = (m: ChildMessage): void => void process.send?.(m);
  const { createGenerator } = (await import(pathToFileURL(config.generator).href)) as { createGenerator: CreateGenerator };
  const gen: MessageGenerator = createGenerator(config.generatorOptions, { index: config.index, children: config.children });
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

  const inFlight = new Array<number>(config.connections).fill(0);
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let firstError: string | null = null;
  let startedAt = 0;
  let endedAt = 0;
  let stopping = false;
  let onSettled: (() => void) | undefined;

  /** Publishes one message on connection conn; returns false when that connection's window is full. */
  const publishOne = (conn: number): boolean => {
    if (inFlight[conn]! >= config.window) return false;
    const m = gen.next(sent++, Date.now());
    inFlight[conn]!++;
    clients[conn]!.publish(m.topic, m.payload, { qos: config.qos }, (err) => {
      inFlight[conn]!--;
      if (err) {
        failed++;
        firstError ??= err.message;
      } else acked++;
      endedAt = Date.now();
      if (config.count !== undefined) pump(conn);
      onSettled?.();
    });
    return true;
  };

  // Flat-out mode: each connection keeps its window full until count messages are sent.
  // QoS 0 callbacks run synchronously while the socket takes the data: the flag keeps that from recursing.
  const pumping = new Array<boolean>(config.connections).fill(false);
  const pump = (conn: number): void => {
    if (pumping[conn]) return;
    pumping[conn] = true;
    while (config.count !== undefined && sent < config.count && publishOne(conn));
    pumping[conn] = false;
  };

  await new Promise<void>((resolve) => {
    process.on('message', (m: { type: string }) => {
      if (m.type === 'start') resolve();
      if (m.type === 'stop') stopping = true;
    });
    send({ type: 'ready' });
  });
  startedAt = Date.now();
  endedAt = startedAt;
  let publishSeconds = 0;

  if (config.count !== undefined) {
    const count = config.count;
    for (let c = 0; c < config.connections; c++) pump(c);
    await new Promise<void>((resolve) => {
      onSettled = () => {
        if (acked + failed >= count) resolve();
      };
      onSettled();
    });
    publishSeconds = (endedAt - startedAt) / 1000;
  } else {
    const rate = config.rate ?? 1000;
    const t0 = performance.now();
    let scheduled = 0;
    let conn = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - t0;
        if (stopping || (config.durationMs !== undefined && elapsed >= config.durationMs)) {
          clearInterval(timer);
          publishSeconds = elapsed / 1000;
          resolve();
          return;
        }
        const due = Math.floor((elapsed * rate) / 1000) - scheduled;
        for (let i = 0; i < due; i++) {
          // Round robin over the connections; when every window is full the rest waits for the next tick.
          let ok = false;
          for (let tries = 0; tries < config.connections && !ok; tries++) {
            ok = publishOne(conn);
            conn = (conn + 1) % config.connections;
          }
          if (!ok) break;
          scheduled++;
        }
      }, 5);
    });
    await new Promise<void>((resolve) => {
      const deadline = Date.now() + 30_000;
      onSettled = () => {
        if (acked + failed >= sent || Date.now() > deadline) resolve();
      };
      onSettled();
      setTimeout(resolve, 30_000).unref();
    });
  }
  const stats: ChildStats = { index: config.index, sent, acked, failed, firstError, startedAt, endedAt, seconds: publishSeconds, summary: gen.summary() };
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
