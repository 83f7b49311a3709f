/**
 * `npm run chaos`: edgebridge under fire. Publishes N sequenced QoS 1 messages through a real Mosquitto, while a
 * seeded scheduler SIGKILLs the gateway and Redis and SIGTERMs VictoriaMetrics and Mosquitto, then checks that
 * every seq landed in both sinks.
 *
 *   node scripts/chaos.ts --messages 200000 --ack write|fsync|both --faults 3
 *        [--devices 100] [--publishers 4] [--rate MSG_PER_S] [--seed N]
 *
 * Prints one summary line per ack mode, e.g.
 *   chaos ack=write sent=200000 influx=200000 redis=200000 lost=0/0 duplicates=12/340 peakRss=61.2MB
 *         peakBacklog=3.4MB diskBytesPerMsg=142 faults=gateway:3,redis:3,vm:3,mqtt:3 elapsed=95s
 * (lost and duplicates are influx/redis; MB = 10^6 bytes), then a `chaos-json {...}` line. Exit 0 only when nothing
 * was lost in either sink in any run.
 *
 * Importable: `runChaos(opts)`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { freePort, startMosquitto, startRedis, startVictoriaMetrics, waitFor } from '../test/harness/index.ts';
import type { MosquittoHandle, RedisHandle, VictoriaMetricsHandle } from '../test/harness/index.ts';
import { GatewayProcess } from '../test/integration/support/GatewayProcess.ts';
import { mulberry32 } from './bulk/prng.ts';

export type AckMode = 'write' | 'fsync';
export type FaultKind = 'gateway' | 'redis' | 'vm' | 'mqtt';
const FAULT_KINDS: readonly FaultKind[] = ['gateway', 'redis', 'vm', 'mqtt'];

export interface ChaosOptions {
  messages: number;
  devices: number;
  ack: AckMode;
  /** How many times each of the four faults is injected. */
  faultsEach: number;
  publishers: number;
  /** Total publish rate; default: N spread over max(12 s, 20 s per fault of each kind). */
  ratePerSecond?: number;
  seed?: number;
  log?: (line: string) => void;
  /** How long to wait for the gateway to drain after publishing (default max(120 s, N / 500 s)). */
  drainTimeoutMs?: number;
}

export interface SinkVerdict {
  /** Distinct seqs found. */
  landed: number;
  lost: number;
  /** Entries minus distinct seqs. */
  duplicates: number;
  entries: number;
  /** First missing seqs (at most 20). */
  missing: number[];
}

export interface FaultRecord {
  kind: FaultKind;
  /** ms since the run started. */
  at: number;
  downMs: number;
  /** ms since start when the server/gateway answered again. */
  upAt: number;
}

export interface ChaosResult {
  ok: boolean;
  summary: string;
  json: string;
  ack: AckMode;
  sent: number;
  /** Publishes including resends after a broker outage. */
  publishes: number;
  resends: number;
  influx: SinkVerdict;
  redis: SinkVerdict;
  peakRssBytes: number;
  peakBacklogBytes: number;
  diskBytesPerMsg: number;
  diskWriteBytes: number;
  gatewayStarts: number;
  faults: FaultRecord[];
  elapsedMs: number;
  publishMs: number;
  drainMs: number;
  /** Diagnostics for missing seqs: when they were published and acknowledged, and the faults near them. */
  lossReport: string[];
}

// ------------------------------------------------------------------------------------------------
// /proc sampling
// ------------------------------------------------------------------------------------------------

function readVmRss(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function readWriteBytes(pid: number): number | undefined {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// At-least-once publishers
// ------------------------------------------------------------------------------------------------

const INFLIGHT = 1;
const QUEUED = 2;
const ACKED = 3;

interface PublishShared {
  readonly n: number;
  readonly devices: number;
  /** Per seq: 0 (not sent yet) / INFLIGHT / QUEUED / ACKED. */
  readonly state: Uint8Array;
  /** Per seq: the payload's ts (fixed at the first send, so a resend is the identical message). */
  readonly ts: Float64Array;
  /** Per seq: when the broker acknowledged it (ms since run start; first ack). */
  readonly ackedAt: Float64Array;
  readonly t0: number;
  publishes: number;
  resends: number;
  acked: number;
}

function connectOnce(url: string, clientId: string, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, {
      clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      keepalive: 5,
      protocolVersion: 4,
    });
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error('closed before CONNACK'));
    const fail = (err: Error) => {
      client.off('error', onError);
      client.off('close', onClose);
      client.on('error', () => {});
      client.end(true);
      reject(err);
    };
    client.once('connect', () => {
      client.off('error', onError);
      client.off('close', onClose);
      resolve(client);
    });
    client.once('error', onError);
    client.once('close', onClose);
  });
}

/**
 * One publisher connection: owns the seqs of the devices d with d % publishers == index, sends them in order at
 * its share of the rate, keeps every unacknowledged seq, and after a lost connection reconnects on its own and
 * resends what the broker had not acknowledged.
 */
class ChaosPublisher {
  readonly #url: string;
  readonly #clientId: string;
  readonly #shared: PublishShared;
  readonly #seqs: Int32Array;
  readonly #ratePerSecond: number;
  readonly #window: number;
  readonly #lastTs = new Map<number, number>();
  readonly #inflight = new Map<number, number>(); // seq → sent at (Date.now())
  readonly #retry: number[] = [];
  #next = 0;
  #client: MqttClient | undefined;
  #generation = 0;
  #stopped = false;
  connects = 0;

  constructor(url: string, clientId: string, shared: PublishShared, seqs: Int32Array, ratePerSecond: number, window = 500) {
    this.#url = url;
    this.#clientId = clientId;
    this.#shared = shared;
    this.#seqs = seqs;
    this.#ratePerSecond = ratePerSecond;
    this.#window = window;
  }

  get done(): boolean {
    return this.#next >= this.#seqs.length && this.#inflight.size === 0 && this.#retry.length === 0;
  }

  stop(): void {
    this.#stopped = true;
    const c = this.#client;
    this.#client = undefined;
    c?.end(true);
  }

  async run(): Promise<void> {
    const started = Date.now();
    let issued = 0; // first sends, paced
    while (!this.#stopped && !this.done) {
      if (this.#client === undefined) {
        await this.#reconnect();
        continue;
      }
      // Stuck acknowledgements on a socket that looks alive: drop the connection, resend.
      const oldest = this.#inflight.values().next();
      if (!oldest.done && Date.now() - oldest.value > 15_000) {
        this.#dropConnection();
        continue;
      }
      const client = this.#client;
      const gen = this.#generation;
      // Resends first (not paced), then first sends up to the pace.
      while (this.#retry.length > 0 && this.#inflight.size < this.#window && this.#client === client) {
        const seq = this.#retry.shift()!;
        if (this.#shared.state[seq] !== QUEUED) continue;
        this.#shared.resends++;
        this.#send(client, gen, seq);
      }
      const due = Math.min(this.#seqs.length, Math.floor(((Date.now() - started) / 1000) * this.#ratePerSecond) + 1);
      while (issued < due && this.#next < this.#seqs.length && this.#inflight.size < this.#window && this.#client === client) {
        const seq = this.#seqs[this.#next++]!;
        const device = seq % this.#shared.devices;
        const ts = Math.max(Date.now(), (this.#lastTs.get(device) ?? 0) + 1);
        this.#lastTs.set(device, ts);
        this.#shared.ts[seq] = ts;
        issued++;
        this.#send(client, gen, seq);
      }
      await sleep(5);
    }
  }

  #send(client: MqttClient, gen: number, seq: number): void {
    const sh = this.#shared;
    sh.state[seq] = INFLIGHT;
    this.#inflight.set(seq, Date.now());
    sh.publishes++;
    const payload = `{"seq":${seq},"ts":${sh.ts[seq]}}`;
    client.publish(`sensors/dev${seq % sh.devices}/chaos`, payload, { qos: 1 }, (err) => {
      if (!err) {
        if (sh.state[seq] !== ACKED) {
          sh.state[seq] = ACKED;
          sh.acked++;
          sh.ackedAt[seq] = Date.now() - sh.t0;
        }
        this.#inflight.delete(seq);
        return;
      }
      // Failed on this connection: resend after reconnecting (unless the connection was already dropped,
      // which requeued it).
      if (gen === this.#generation && sh.state[seq] === INFLIGHT) {
        this.#inflight.delete(seq);
        sh.state[seq] = QUEUED;
        this.#retry.push(seq);
      }
    });
  }

  #dropConnection(): void {
    const c = this.#client;
    this.#client = undefined;
    this.#generation++;
    for (const seq of this.#inflight.keys()) {
      if (this.#shared.state[seq] === INFLIGHT) {
        this.#shared.state[seq] = QUEUED;
        this.#retry.push(seq);
      }
    }
    this.#inflight.clear();
    c?.end(true);
  }

  async #reconnect(): Promise<void> {
    while (!this.#stopped) {
      try {
        const client = await connectOnce(this.#url, this.#clientId, 3000);
        if (this.#stopped) {
          client.end(true);
          return;
        }
        this.connects++;
        this.#client = client;
        client.on('error', () => {});
        client.once('close', () => {
          if (this.#client === client) this.#dropConnection();
        });
        return;
      } catch {
        await sleep(250);
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Verification
// ------------------------------------------------------------------------------------------------

function verdict(values: Iterable<number>, n: number): SinkVerdict {
  const seen = new Uint8Array(n);
  let entries = 0;
  let landed = 0;
  for (const v of values) {
    entries++;
    if (Number.isInteger(v) && v >= 0 && v < n && seen[v] === 0) {
      seen[v] = 1;
      landed++;
    }
  }
  const missing: number[] = [];
  for (let i = 0; i < n && missing.length < 20; i++) if (seen[i] === 0) missing.push(i);
  return { landed, lost: n - landed, duplicates: entries - landed, entries, missing };
}

function missingAll(values: Iterable<number>, n: number): number[] {
  const seen = new Uint8Array(n);
  for (const v of values) if (Number.isInteger(v) && v >= 0 && v < n) seen[v] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (seen[i] === 0) out.push(i);
  return out;
}

async function influxSeqs(vm: VictoriaMetricsHandle): Promise<number[]> {
  const series = await vm.exportSeries('chaos_seq');
  return series.flatMap((s) => s.values);
}

/** Stream entry ids by seq (first entry), filled by redisSeqs: an id is Redis's clock when the gateway wrote it. */
const redisIdsBySeq = new Map<number, string>();

async function redisSeqs(url: string): Promise<number[]> {
  redisIdsBySeq.clear();
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
  await redis.connect();
  try {
    const out: number[] = [];
    let start = '-';
    for (;;) {
      const chunk = (await redis.xrange('eb:stream:{chaos}', start, '+', 'COUNT', 10_000)) as [string, string[]][];
      for (const [id, fields] of chunk) {
        let value = NaN;
        for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'seq') value = Number(fields[i + 1]);
        out.push(value);
        if (!redisIdsBySeq.has(value)) redisIdsBySeq.set(value, id);
      }
      if (chunk.length < 10_000) break;
      start = `(${chunk[chunk.length - 1]![0]}`;
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Consecutive runs of missing seqs, e.g. "1200-1299 (100)". */
function ranges(missing: number[], max = 10): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < missing.length && out.length < max) {
    let j = i;
    while (j + 1 < missing.length && missing[j + 1] === missing[j]! + 1) j++;
    out.push(i === j ? `${missing[i]}` : `${missing[i]}-${missing[j]} (${j - i + 1})`);
    i = j + 1;
  }
  if (i < missing.length) out.push('…');
  return out;
}

// ------------------------------------------------------------------------------------------------
// The run
// ------------------------------------------------------------------------------------------------

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)}MB`;

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const n = opts.messages;
  const devices = Math.max(1, opts.devices);
  const publishers = Math.max(1, Math.min(opts.publishers, devices));
  const faultsEach = Math.max(0, opts.faultsEach);
  const seed = opts.seed ?? 1;
  const rnd = mulberry32(seed ^ (opts.ack === 'fsync' ? 0x5f5f : 0));
  const targetSeconds = Math.max(12, 20 * faultsEach);
  const rate = opts.ratePerSecond ?? Math.max(1, Math.ceil(n / targetSeconds));
  const plannedPublishMs = (n / rate) * 1000;
  const t0 = Date.now();
  const since = (): number => Date.now() - t0;
  const stamp = (): string => `${new Date().toISOString()} +${(since() / 1000).toFixed(1)}s`;
  const log = (line: string): void => opts.log?.(`[chaos ${opts.ack}] ${stamp()} ${line}`);

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-chaos-'));
  const spoolDir = path.join(runDir, 'spool');
  const scratch = path.join(runDir, 'scratch');
  fs.mkdirSync(spoolDir);
  fs.mkdirSync(scratch);

  let mq: MosquittoHandle | undefined;
  let rd: RedisHandle | undefined;
  let vm: VictoriaMetricsHandle | undefined;
  let gw: GatewayProcess | undefined;
  const gateways: GatewayProcess[] = [];
  const pubs: ChaosPublisher[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    [mq, rd, vm] = await Promise.all([
      startMosquitto({ persistence: true }),
      startRedis({ appendonly: true }),
      startVictoriaMetrics({ extraArgs: ['-loggerLevel=ERROR'] }),
    ]);
    const httpPort = await freePort();
    const clientId = `edgebridge-chaos-${process.pid}-${seed}-${opts.ack}`;
    const env: Record<string, string> = {
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_INFLUX_URL: vm.url,
      EDGEBRIDGE_REDIS_URL: rd.url,
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_HTTP_PORT: String(httpPort),
      EDGEBRIDGE_SPOOL_ACK: opts.ack,
      EDGEBRIDGE_MQTT_CLIENT_ID: clientId,
      EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200',
      EDGEBRIDGE_MQTT_RECONNECT_MAX_MS: '2000',
      EDGEBRIDGE_REDIS_STREAM_MAX_LEN: '100000000',
      EDGEBRIDGE_LOG_LEVEL: 'warn',
      EDGEBRIDGE_GATEWAY_ID: 'chaos',
    };
    for (const sink of ['INFLUX', 'REDIS']) {
      env[`EDGEBRIDGE_${sink}_RESILIENCE_RETRY_INITIAL_MS`] = '200';
      env[`EDGEBRIDGE_${sink}_RESILIENCE_RETRY_MAX_MS`] = '2000';
      env[`EDGEBRIDGE_${sink}_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS`] = '3000';
      env[`EDGEBRIDGE_${sink}_RESILIENCE_TIMEOUT_MS`] = '5000';
    }
    const startGateway = async (waitUntil: 'ready' | 'alive'): Promise<GatewayProcess> => {
      // GatewayProcess.start makes a spool temp dir even when EDGEBRIDGE_SPOOL_DIR is given (synchronously,
      // since the port is fixed): point os.tmpdir() at our scratch dir for that call so it is cleaned up with us.
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = scratch;
      let started: Promise<GatewayProcess>;
      try {
        started = GatewayProcess.start({ env, waitUntil, timeoutMs: 30_000 });
      } finally {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
      }
      const g = await started;
      gateways.push(g);
      return g;
    };
    gw = await startGateway('ready');
    log(`servers up: mqtt ${mq.url} redis ${rd.url} vm ${vm.url}; gateway pid ${gw.pid} http ${httpPort}; ` +
      `n=${n} devices=${devices} publishers=${publishers} rate=${rate}/s seed=${seed}`);

    // ---- sampler ----
    let peakRss = 0;
    let peakBacklog = 0;
    let gatewayCounters = '';
    const writeBytesByPid = new Map<number, number>();
    const sampleIo = (g: GatewayProcess | undefined): void => {
      const pid = g?.pid;
      if (pid === undefined) return;
      const w = readWriteBytes(pid);
      if (w !== undefined) writeBytesByPid.set(pid, w);
    };
    let sampling = false;
    sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      const g = gw;
      void (async () => {
        try {
          const pid = g?.pid;
          if (pid !== undefined) {
            const rss = readVmRss(pid);
            if (rss !== undefined) peakRss = Math.max(peakRss, rss);
            sampleIo(g);
          }
          const st = (await g?.status().catch(() => undefined)) as
            | { messages: { received: number; accepted: number }; sinks: { backlog: { bytes?: number } }[] }
            | undefined;
          if (st !== undefined) {
            const backlog = st.sinks.reduce((s, x) => s + (x.backlog.bytes ?? 0), 0);
            peakBacklog = Math.max(peakBacklog, backlog);
            gatewayCounters = `gateway pid ${g?.pid} received ${st.messages.received} accepted ${st.messages.accepted} backlog ${backlog} B`;
          }
        } finally {
          sampling = false;
        }
      })();
    }, 250);

    // ---- publishers ----
    const shared: PublishShared = {
      n,
      devices,
      state: new Uint8Array(n),
      ts: new Float64Array(n),
      ackedAt: new Float64Array(n).fill(-1),
      t0,
      publishes: 0,
      resends: 0,
      acked: 0,
    };
    const owned: number[][] = Array.from({ length: publishers }, () => []);
    for (let seq = 0; seq < n; seq++) owned[(seq % devices) % publishers]!.push(seq);
    for (let p = 0; p < publishers; p++) {
      const share = owned[p]!.length / n;
      pubs.push(new ChaosPublisher(mq.url, `chaos-pub-${process.pid}-${opts.ack}-${p}`, shared, Int32Array.from(owned[p]!), rate * share));
    }
    const publishStart = since();
    const publishing = Promise.all(pubs.map((p) => p.run())).then(() => since());
    const progress = setInterval(() => {
      log(`published: acked ${shared.acked}/${n} publishes ${shared.publishes} resends ${shared.resends}; ${gatewayCounters}`);
    }, 10_000);

    // ---- fault scheduler (serialized) ----
    const faults: FaultRecord[] = [];
    const plan: FaultKind[] = [];
    for (const kind of FAULT_KINDS) for (let i = 0; i < faultsEach; i++) plan.push(kind);
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [plan[i], plan[j]] = [plan[j]!, plan[i]!];
    }
    const windowStart = publishStart + 0.05 * plannedPublishMs;
    const windowLen = 0.8 * plannedPublishMs;
    const slot = plan.length > 0 ? windowLen / plan.length : 0;
    const schedule = plan.map((kind, i) => ({ kind, at: windowStart + slot * i + rnd() * slot * 0.6 }));
    const between = (lo: number, hi: number): number => Math.round(lo + rnd() * (hi - lo));
    const injecting = (async () => {
      for (const { kind, at } of schedule) {
        const wait = at - since();
        if (wait > 0) await sleep(wait);
        const startedAt = since();
        let downMs = 0;
        switch (kind) {
          case 'gateway': {
            downMs = between(500, 3000);
            const old = gw!;
            sampleIo(old); // last disk-write sample right before the kill
            log(`FAULT gateway: SIGKILL pid ${old.pid}, down ${downMs} ms`);
            old.signal('SIGKILL');
            await old.exited();
            await sleep(downMs);
            gw = await startGateway('alive');
            log(`gateway restarted: pid ${gw.pid}`);
            break;
          }
          case 'redis':
            downMs = between(500, 3000);
            log(`FAULT redis: SIGKILL pid ${rd!.pid}, down ${downMs} ms`);
            await rd!.kill();
            await sleep(downMs);
            await rd!.restart();
            log(`redis restarted: pid ${rd!.pid}`);
            break;
          case 'vm':
            downMs = between(1000, 5000);
            log(`FAULT vm: SIGTERM pid ${vm!.pid}, down ${downMs} ms`);
            await vm!.stop();
            await sleep(downMs);
            await vm!.restart();
            log(`vm restarted: pid ${vm!.pid}`);
            break;
          case 'mqtt':
            downMs = between(1000, 3000);
            log(`FAULT mqtt: SIGTERM pid ${mq!.pid}, down ${downMs} ms`);
            await mq!.stop();
            await sleep(downMs);
            await mq!.restart();
            log(`mqtt restarted: pid ${mq!.pid}`);
            break;
        }
        faults.push({ kind, at: startedAt, downMs, upAt: since() });
      }
    })();

    const publishEnd = await publishing;
    log(`publishing done: ${shared.acked}/${n} acknowledged by the broker, ${shared.publishes} publishes, ${shared.resends} resends`);
    await injecting;
    for (const p of pubs) p.stop();

    // ---- drain ----
    const drainStart = since();
    const drainTimeoutMs = opts.drainTimeoutMs ?? Math.max(120_000, (n / 500) * 1000);
    let lastReceived = -1;
    let stableSince = Date.now();
    let lastStatus = '';
    try {
      await waitFor(
        async () => {
          const st = (await gw!.status()) as unknown as {
            messages: { received: number; accepted: number; unrouted: number; rejected: number };
            sinks: { name: string; backlog: { points: number; bytes: number } }[];
          };
          lastStatus = JSON.stringify({ messages: st.messages, sinks: st.sinks.map((s) => ({ name: s.name, backlog: s.backlog })) });
          if (st.messages.received !== lastReceived) {
            lastReceived = st.messages.received;
            stableSince = Date.now();
          }
          const settled =
            Date.now() - stableSince >= 3000 &&
            st.messages.received >= st.messages.accepted &&
            st.sinks.every((s) => s.backlog.points === 0);
          return settled;
        },
        { timeoutMs: drainTimeoutMs, intervalMs: 250, message: () => `gateway did not drain; last status ${lastStatus}` },
      );
    } catch (err) {
      log(`WARNING ${(err as Error).message}`);
    }
    clearInterval(progress);
    sampleIo(gw);

    // ---- verify (a loss is only final after a grace period: re-check while something is missing) ----
    let influxValues: number[] = [];
    let redisValues: number[] = [];
    let influx: SinkVerdict;
    let redis: SinkVerdict;
    const verifyDeadline = Date.now() + 30_000;
    for (;;) {
      influxValues = await influxSeqs(vm);
      redisValues = await redisSeqs(rd.url);
      influx = verdict(influxValues, n);
      redis = verdict(redisValues, n);
      if ((influx.lost === 0 && redis.lost === 0) || Date.now() > verifyDeadline) break;
      log(`verify: still missing influx=${influx.lost} redis=${redis.lost}; re-checking`);
      await sleep(5000);
    }
    const drainMs = since() - drainStart;

    // ---- loss diagnostics ----
    const lossReport: string[] = [];
    const describeLoss = (sink: string, values: number[]): void => {
      const miss = missingAll(values, n);
      if (miss.length === 0) return;
      lossReport.push(`${sink}: ${miss.length} missing: ${ranges(miss).join(', ')}`);
      for (const seq of miss.slice(0, 5)) {
        const ackAt = shared.ackedAt[seq]!;
        const near = faults
          .filter((f) => ackAt >= f.at - 5000 && ackAt <= f.upAt + 10_000)
          .map((f) => `${f.kind}@${(f.at / 1000).toFixed(1)}s-${(f.upAt / 1000).toFixed(1)}s`);
        // When did the gateway write the neighbours (published at about the same moment) to Redis?
        const neighbours = [seq - 2, seq - 1, seq + 1, seq + 2]
          .filter((x) => x >= 0 && x < n)
          .map((x) => {
            const id = redisIdsBySeq.get(x);
            return id === undefined ? `${x}:-` : `${x}:+${((Number(id.split('-')[0]) - t0) / 1000).toFixed(3)}s`;
          });
        lossReport.push(
          `  seq ${seq} dev${seq % devices} ts ${shared.ts[seq]} (+${((shared.ts[seq]! - t0) / 1000).toFixed(3)}s) ` +
            `broker-acked at +${(ackAt / 1000).toFixed(3)}s; faults near: ${near.join(' ') || 'none'}; ` +
            `neighbours written to redis at ${neighbours.join(' ')}`,
        );
      }
      // Acknowledgement times of all missing seqs, as a span
      const acks = miss.map((s) => shared.ackedAt[s]!).sort((a, b) => a - b);
      lossReport.push(`  broker-ack times of missing seqs: +${(acks[0]! / 1000).toFixed(3)}s … +${(acks.at(-1)! / 1000).toFixed(3)}s`);
    };
    describeLoss('influx', influxValues);
    describeLoss('redis', redisValues);
    if (lossReport.length > 0) {
      lossReport.push(
        `faults: ${faults.map((f) => `${f.kind}@+${(f.at / 1000).toFixed(1)}s..+${(f.upAt / 1000).toFixed(1)}s`).join(' ')}`,
      );
      for (const [i, g] of gateways.entries()) {
        const lines = g.stdout.split('\n').filter((l) => l.trim().length > 0);
        lossReport.push(`gateway #${i + 1} pid ${g.pid}: ${lines.length} log lines (warn+)`);
        for (const l of lines.slice(-15)) lossReport.push(`  ${l.slice(0, 400)}`);
        if (g.stderr.trim()) lossReport.push(`  stderr: ${g.stderr.slice(-1000)}`);
      }
      for (const line of lossReport) log(`LOSS ${line}`);
    }

    const diskWriteBytes = [...writeBytesByPid.values()].reduce((a, b) => a + b, 0);
    const diskBytesPerMsg = Math.round(diskWriteBytes / Math.max(1, n));
    const faultCounts = FAULT_KINDS.map((k) => `${k}:${faults.filter((f) => f.kind === k).length}`).join(',');
    const elapsedMs = since();
    const ok = influx.lost === 0 && redis.lost === 0 && shared.acked === n;
    const summary =
      `chaos ack=${opts.ack} sent=${shared.acked} influx=${influx.landed} redis=${redis.landed} ` +
      `lost=${influx.lost}/${redis.lost} duplicates=${influx.duplicates}/${redis.duplicates} ` +
      `peakRss=${mb(peakRss)} peakBacklog=${mb(peakBacklog)} diskBytesPerMsg=${diskBytesPerMsg} ` +
      `faults=${faultCounts} elapsed=${Math.round(elapsedMs / 1000)}s`;
    const result: ChaosResult = {
      ok,
      summary,
      json: '',
      ack: opts.ack,
      sent: shared.acked,
      publishes: shared.publishes,
      resends: shared.resends,
      influx,
      redis,
      peakRssBytes: peakRss,
      peakBacklogBytes: peakBacklog,
      diskBytesPerMsg,
      diskWriteBytes,
      gatewayStarts: gateways.length,
      faults,
      elapsedMs,
      publishMs: publishEnd - publishStart,
      drainMs,
      lossReport,
    };
    result.json = JSON.stringify({
      ack: opts.ack,
      ok,
      messages: n,
      devices,
      publishers,
      rate,
      seed,
      sent: result.sent,
      publishes: result.publishes,
      resends: result.resends,
      influx,
      redis,
      peakRssBytes: peakRss,
      peakBacklogBytes: peakBacklog,
      diskWriteBytes,
      diskBytesPerMsg,
      gatewayStarts: gateways.length,
      faults,
      elapsedMs,
      publishMs: result.publishMs,
      drainMs,
    });
    return result;
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    for (const p of pubs) p.stop();
    for (const [i, g] of gateways.entries()) {
      g.signal('SIGKILL');
      await g.exited();
      // Kept only with EDGEBRIDGE_KEEP_TMP=1 (for post-mortems with the spool and the servers' logs).
      fs.writeFileSync(path.join(runDir, `gateway-${i + 1}-pid${g.pid}.log`), g.stdout + (g.stderr ? `\n--- stderr ---\n${g.stderr}` : ''));
    }
    await Promise.all([mq?.destroy(), rd?.destroy(), vm?.destroy()].map((p) => p?.catch(() => {})));
    if (process.env.EDGEBRIDGE_KEEP_TMP !== '1') fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

// ------------------------------------------------------------------------------------------------
// CLI
// ------------------------------------------------------------------------------------------------

const USAGE = `usage: node scripts/chaos.ts [--messages N] [--ack write|fsync|both] [--faults K]
       [--devices D] [--publishers P] [--rate MSG_PER_S] [--seed S]
  --messages    sequenced QoS 1 messages to publish (default 200000)
  --ack         spool acknowledgement mode; both = write, then fsync (default both)
  --faults      how many times each fault (gateway, redis, vm, mqtt) is injected (default 3)
  --devices     devices the seqs are spread over (default 100)
  --publishers  MQTT publisher connections (default 4)
  --rate        total publish rate (default: spread over max(12 s, 20 s per fault of each kind))
  --seed        PRNG seed for the fault schedule (default 1)
`;

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        messages: { type: 'string' },
        ack: { type: 'string' },
        faults: { type: 'string' },
        devices: { type: 'string' },
        publishers: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const int = (name: string, fallback: number, min = 1): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${String(text)}"`);
    return v;
  };
  let modes: AckMode[];
  let messages: number, faults: number, devices: number, publishers: number, seed: number;
  let rate: number | undefined;
  try {
    const ack = (values.ack as string | undefined) ?? 'both';
    if (ack !== 'write' && ack !== 'fsync' && ack !== 'both') throw new Error(`--ack must be write, fsync or both, got "${ack}"`);
    modes = ack === 'both' ? ['write', 'fsync'] : [ack];
    messages = int('messages', 200_000);
    faults = int('faults', 3, 0);
    devices = int('devices', 100);
    publishers = int('publishers', 4);
    seed = int('seed', 1, 0);
    rate = values.rate === undefined ? undefined : int('rate', 1);
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let ok = true;
  const summaries: string[] = [];
  for (const ack of modes) {
    const result = await runChaos({
      messages,
      devices,
      ack,
      faultsEach: faults,
      publishers,
      seed,
      ...(rate !== undefined ? { ratePerSecond: rate } : {}),
      log: (line) => process.stderr.write(line + '\n'),
    });
    process.stdout.write(result.summary + '\n');
    process.stdout.write(`chaos-json ${result.json}\n`);
    summaries.push(result.summary);
    ok &&= result.ok;
  }
  if (modes.length > 1) process.stderr.write(`\n${summaries.join('\n')}\n`);
  return ok ? 0 : 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
