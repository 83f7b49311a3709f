/**
 * A fleet of simulated climate sensors publishing to an MQTT broker.
 *
 *   node scripts/simulator.ts --url mqtt://127.0.0.1:1883 --devices 100 --rate 500 --qos 1 [--duration 30] [--connections 4]
 *
 * Device i publishes `{"t":<°C>,"h":<%RH>,"seq":<n>,"ts":<epoch ms>}` to `sensors/dev<i>/climate`
 * (random-walk values). The total rate is spread evenly over the devices and over time; the devices
 * are shared out over several MQTT connections so the publisher is not the bottleneck.
 * Importable: `runSimulator(opts)` returns `{ stop(), stats() }`.
 */
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';

export type SimQoS = 0 | 1 | 2;

export interface SimulatorOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  /** Number of devices (dev1 … devN). Default 100. */
  devices?: number;
  /** Total messages per second over all devices. Default 500. */
  rate?: number;
  /** Default 1. */
  qos?: SimQoS;
  /** MQTT connections the devices are shared out over. Default min(4, devices). */
  connections?: number;
  /** Topic prefix; the topic is `<prefix>/dev<i>/climate`. Default 'sensors'. */
  topicPrefix?: string;
  /** Client id prefix (a random suffix and the connection number are appended). */
  clientIdPrefix?: string;
  /** Unacknowledged publishes allowed per connection before the simulator skips (counts `skipped`). Default 2000. */
  maxInFlightPerConnection?: number;
  /** Called on connection errors (default: ignored; they are counted in stats().errors). */
  onError?: (error: Error) => void;
}

export interface SimStats {
  devices: number;
  connections: number;
  /** Connections currently connected. */
  connected: number;
  /** Target total rate (msg/s). */
  rate: number;
  qos: SimQoS;
  /** Messages handed to the MQTT client. */
  published: number;
  /** Messages the broker acknowledged (QoS 1/2) or that were written to the socket (QoS 0). */
  acknowledged: number;
  /** Publishes that failed (callback with an error). */
  failed: number;
  /** Published but not yet acknowledged or failed. */
  inFlight: number;
  /** Messages not sent because a connection was down or too far behind. */
  skipped: number;
  /** Connection errors seen. */
  errors: number;
  /** Seconds since the simulator started. */
  elapsedSeconds: number;
}

export interface Simulator {
  /** Stop publishing, wait (up to timeoutMs, default 5 s) for outstanding acknowledgements, disconnect. */
  stop(timeoutMs?: number): Promise<SimStats>;
  stats(): SimStats;
}

interface Device {
  topic: string;
  seq: number;
  t: number;
  h: number;
  conn: number;
}

const TICK_MS = 10;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
/** Roughly normal noise in [-1, 1] (sum of three uniforms). */
const noise = (): number => (Math.random() + Math.random() + Math.random() - 1.5) / 1.5;

function step(d: Device): string {
  d.seq++;
  d.t = clamp(d.t + noise() * 0.08, -10, 45);
  d.h = clamp(d.h + noise() * 0.3, 5, 95);
  return JSON.stringify({ t: Math.round(d.t * 100) / 100, h: Math.round(d.h * 10) / 10, seq: d.seq, ts: Date.now() });
}

export async function runSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const deviceCount = Math.max(1, Math.floor(opts.devices ?? 100));
  const rate = Math.max(0, opts.rate ?? 500);
  const qos: SimQoS = opts.qos ?? 1;
  const connCount = Math.max(1, Math.min(deviceCount, Math.floor(opts.connections ?? 4)));
  const prefix = opts.topicPrefix ?? 'sensors';
  const maxInFlight = Math.max(1, opts.maxInFlightPerConnection ?? 2000);
  const idBase = `${opts.clientIdPrefix ?? 'edgebridge-sim'}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;

  let errors = 0;
  const onError = (err: Error): void => {
    errors++;
    opts.onError?.(err);
  };

  const clients: MqttClient[] = [];
  try {
    for (let c = 0; c < connCount; c++) {
      const client = await connectAsync(opts.url, {
        clientId: `${idBase}-${c + 1}`,
        reconnectPeriod: 1000,
        connectTimeout: 5000,
        clean: true,
      });
      client.on('error', onError);
      clients.push(client);
    }
  } catch (err) {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    throw new Error(`simulator: cannot connect to ${opts.url}: ${(err as Error).message}`, { cause: err });
  }

  const devices: Device[] = [];
  for (let i = 1; i <= deviceCount; i++) {
    devices.push({
      topic: `${prefix}/dev${i}/climate`,
      seq: 0,
      t: 18 + Math.random() * 8,
      h: 35 + Math.random() * 30,
      conn: (i - 1) % connCount,
    });
  }

  const inFlightPer = new Array<number>(connCount).fill(0);
  let published = 0;
  let acknowledged = 0;
  let failed = 0;
  let skipped = 0;
  let scheduled = 0; // messages whose time slot has come (sent or skipped)
  let next = 0; // next device index (round robin: every device gets rate/devices msg/s)
  const startedAt = performance.now();
  let stoppedAt: number | undefined;

  const tick = (): void => {
    const elapsed = performance.now() - startedAt;
    let due = Math.floor((elapsed * rate) / 1000) - scheduled;
    // Never burst more than one second's worth after a stall: skip the rest.
    const maxBurst = Math.max(1, Math.ceil(rate));
    if (due > maxBurst) {
      skipped += due - maxBurst;
      scheduled += due - maxBurst;
      due = maxBurst;
    }
    for (; due > 0; due--) {
      const d = devices[next] as Device;
      next = (next + 1) % deviceCount;
      scheduled++;
      const client = clients[d.conn] as MqttClient;
      if (!client.connected || (inFlightPer[d.conn] as number) >= maxInFlight) {
        d.seq++; // the device "sent" it, but it never reached the broker: a visible gap in seq
        skipped++;
        continue;
      }
      const conn = d.conn;
      inFlightPer[conn] = (inFlightPer[conn] as number) + 1;
      published++;
      client.publish(d.topic, step(d), { qos }, (err) => {
        inFlightPer[conn] = (inFlightPer[conn] as number) - 1;
        if (err) failed++;
        else acknowledged++;
      });
    }
  };
  const timer = setInterval(tick, TICK_MS);

  const stats = (): SimStats => ({
    devices: deviceCount,
    connections: connCount,
    connected: clients.filter((c) => c.connected).length,
    rate,
    qos,
    published,
    acknowledged,
    failed,
    inFlight: inFlightPer.reduce((a, b) => a + b, 0),
    skipped,
    errors,
    elapsedSeconds: ((stoppedAt ?? performance.now()) - startedAt) / 1000,
  });

  let stopping: Promise<SimStats> | undefined;
  const stop = (timeoutMs = 5000): Promise<SimStats> => {
    stopping ??= (async () => {
      clearInterval(timer);
      stoppedAt = performance.now();
      const deadline = Date.now() + timeoutMs;
      while (inFlightPer.some((n) => n > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.all(clients.map((c) => c.endAsync(inFlightPer.some((n) => n > 0)).catch(() => undefined)));
      return stats();
    })();
    return stopping;
  };

  return { stop, stats };
}

// ------------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------------

const USAGE = `usage: node scripts/simulator.ts --url mqtt://HOST:PORT [--devices N] [--rate MSG_PER_S] [--qos 0|1|2]
                                [--duration SECONDS] [--connections N]
  --url          broker URL (default mqtt://127.0.0.1:1883)
  --devices      number of devices dev1..devN (default 100)
  --rate         total messages per second (default 500)
  --qos          0, 1 or 2 (default 1)
  --duration     stop after this many seconds (default: until Ctrl-C)
  --connections  MQTT connections to share the devices over (default 4)
`;

function positive(name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    process.stderr.write(`simulator: --${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${value}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
        devices: { type: 'string' },
        rate: { type: 'string' },
        qos: { type: 'string' },
        duration: { type: 'string' },
        connections: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`simulator: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values['help']) {
    process.stdout.write(USAGE);
    return;
  }
  const qosText = (values['qos'] as string | undefined) ?? '1';
  if (!['0', '1', '2'].includes(qosText)) {
    process.stderr.write(`simulator: --qos must be 0, 1 or 2\n${USAGE}`);
    process.exit(2);
  }
  const url = values['url'] as string;
  const devices = Math.floor(positive('devices', values['devices'] as string | undefined, 100));
  const rate = positive('rate', values['rate'] as string | undefined, 500, true);
  const duration = values['duration'] === undefined ? undefined : positive('duration', values['duration'] as string, 0);
  const connections = Math.floor(positive('connections', values['connections'] as string | undefined, 4));
  const qos = Number(qosText) as SimQoS;

  const sim = await runSimulator({
    url,
    devices,
    rate,
    qos,
    connections,
    onError: (err) => process.stderr.write(`simulator: connection error: ${err.message}\n`),
  });
  const s0 = sim.stats();
  process.stdout.write(
    `simulator: ${devices} devices → ${url}, ${rate} msg/s total, QoS ${qos}, ${s0.connections} connections` +
      `${duration === undefined ? ', Ctrl-C to stop' : `, for ${duration} s`}\n`,
  );

  let last = sim.stats();
  const report = setInterval(() => {
    const s = sim.stats();
    const dt = s.elapsedSeconds - last.elapsedSeconds || 1;
    process.stdout.write(
      `${s.elapsedSeconds.toFixed(0).padStart(5)} s  published ${Math.round((s.published - last.published) / dt)}/s` +
        `  acked ${Math.round((s.acknowledged - last.acknowledged) / dt)}/s  total ${s.published}/${s.acknowledged}` +
        `  in flight ${s.inFlight}  skipped ${s.skipped}  connected ${s.connected}/${s.connections}\n`,
    );
    last = s;
  }, 1000);

  let finishing = false;
  const finish = async (): Promise<void> => {
    if (finishing) return;
    finishing = true;
    clearInterval(report);
    const s = await sim.stop();
    process.stdout.write(
      `simulator: done after ${s.elapsedSeconds.toFixed(1)} s: published ${s.published}, acknowledged ${s.acknowledged}, ` +
        `failed ${s.failed}, unacknowledged ${s.inFlight}, skipped ${s.skipped}` +
        ` (${(s.published / Math.max(s.elapsedSeconds, 0.001)).toFixed(0)} msg/s)\n`,
    );
    process.exitCode = s.failed > 0 || s.inFlight > 0 ? 1 : 0;
  };
  process.once('SIGINT', () => void finish());
  process.once('SIGTERM', () => void finish());
  if (duration !== undefined) setTimeout(() => void finish(), duration * 1000);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`simulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
