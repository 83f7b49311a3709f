/**
 * The chaos run's at-least-once publisher: unlike the fleet's (test/harness/fleet), it runs in-process, keeps
 * every seq the broker has not acknowledged and resends it after a broker outage, and records when each seq was
 * acknowledged, for the loss report.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'mqtt';
import type { MqttClient } from 'mqtt';

/** Per-seq states in PublishShared.state. */
const INFLIGHT = 1;
const QUEUED = 2;
export const ACKED = 3;

/** The shared publish state of `n` messages from `devices` devices, nothing sent yet. */
export function newPublishShared(n: number, devices: number, t0: number): PublishShared {
  return {
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
}

export interface PublishShared {
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
export class SequencedPublisher {
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
