/**
 * One member of the bench's publisher fleet, run as a child process (`fork`), so its CPU is not counted in the
 * gateway's or the subscriber's and it does not share their event loop.
 *
 *   argv[2] = JSON PublisherConfig. IPC: → {type:'ready'} once connected; ← {type:'start'}; ← {type:'stop'} (rate
 *   mode without a duration); → {type:'done', stats}.
 *
 * Device i publishes `{"t":..,"h":..,"p":..,"ts":<send time, epoch ms>}` to `<prefix>/dev<i>/<measurement>`.
 * Every `probeEvery`-th message is instead a probe `{"seq":n,"t":..,"h":..,"p":..,"ts":..}` to
 * `<prefix>/probe<index>/<measurement>_probe` (a measurement of its own, so the latency read-back stays small).
 * `ts` is the send time, made strictly increasing per device (+1 ms when a device sends twice within a
 * millisecond) so no two points of one series share a timestamp and sample counts in the TSDB are exact.
 */
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';

export interface PublisherConfig {
  url: string;
  index: number;
  qos: 0 | 1;
  topicPrefix: string;
  measurement: string;
  devices: number;
  deviceOffset: number;
  connections: number;
  /** Flat out: publish exactly this many messages as fast as the window allows. */
  count?: number;
  /** Fixed rate (msg/s of this child); runs for durationMs, or until {type:'stop'}. */
  rate?: number;
  durationMs?: number;
  /** Unacknowledged (QoS 1) / unwritten (QoS 0) publishes allowed per connection. */
  window: number;
  /** Every n-th message is a latency probe; 0 = none. */
  probeEvery: number;
  /** Extra numeric fields `f0`… in every payload (payload-size scaling); default 0. */
  extraFields?: number;
}

export interface PublisherStats {
  index: number;
  sent: number;
  acked: number;
  failed: number;
  probes: number;
  startedAt: number;
  /** Time the last publish was acknowledged (QoS 1) / written (QoS 0). */
  endedAt: number;
  /** Time spent publishing, for the achieved rate. */
  seconds: number;
}

export type PublisherMessage = { type: 'ready' } | { type: 'done'; stats: PublisherStats } | { type: 'error'; message: string };

async function main(config: PublisherConfig): Promise<void> {
  const send = (m: PublisherMessage): void => {
    process.send?.(m);
  };
  const clients: MqttClient[] = [];
  for (let c = 0; c < config.connections; c++) {
    const client = await connectAsync(config.url, {
      clientId: `bench-pub-${config.index}-${c}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    client.on('error', (err) => send({ type: 'error', message: err.message }));
    // QoS 0 publishes past the socket's high-water mark each wait for 'drain': up to `window` listeners.
    client.stream.setMaxListeners(0);
    clients.push(client);
  }
  const topics: string[] = [];
  const lastTs: number[] = [];
  for (let d = 0; d < config.devices; d++) {
    topics.push(`${config.topicPrefix}/dev${config.deviceOffset + d + 1}/${config.measurement}`);
    lastTs.push(0);
  }
  const probeTopic = `${config.topicPrefix}/probe${config.index}/${config.measurement}_probe`;
  let probeLastTs = 0;

  const inFlight = new Array<number>(config.connections).fill(0);
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let probes = 0;
  let next = 0;
  let startedAt = 0;
  let endedAt = 0;
  let stopping = false;
  let onSettled: (() => void) | undefined;

  const extra = Array.from({ length: config.extraFields ?? 0 }, (_, i) => `"f${i}":${(i * 7.31).toFixed(2)},`).join('');
  const payload = (n: number, ts: number): string => {
    const t = 20 + (n % 100) / 10;
    const h = 40 + (n % 37) / 10;
    return `{"t":${t},"h":${h},"p":1013.2,${extra}"ts":${ts}}`;
  };

  /** Publishes one message on connection conn; returns false when that connection's window is full. */
  const publishOne = (conn: number): boolean => {
    if ((inFlight[conn] as number) >= config.window) return false;
    const n = sent++;
    let topic: string;
    let body: string;
    const now = Date.now();
    if (config.probeEvery > 0 && n % config.probeEvery === config.probeEvery - 1) {
      probeLastTs = Math.max(now, probeLastTs + 1);
      probes++;
      topic = probeTopic;
      body = `{"seq":${probes},"t":21.5,"h":40.1,"p":1013.2,"ts":${probeLastTs}}`;
    } else {
      const d = next;
      next = (next + 1) % config.devices;
      const ts = Math.max(now, (lastTs[d] as number) + 1);
      lastTs[d] = ts;
      topic = topics[d] as string;
      body = payload(n, ts);
    }
    inFlight[conn] = (inFlight[conn] as number) + 1;
    (clients[conn] as MqttClient).publish(topic, body, { qos: config.qos }, (err) => {
      inFlight[conn] = (inFlight[conn] as number) - 1;
      if (err) failed++;
      else acked++;
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
  const stats: PublisherStats = { index: config.index, sent, acked, failed, probes, startedAt, endedAt, seconds: publishSeconds };
  await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  send({ type: 'done', stats });
  process.disconnect?.();
}

if (import.meta.main) {
  main(JSON.parse(process.argv[2] ?? '{}') as PublisherConfig).catch((err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
