import mqtt, { type MqttClient } from 'mqtt';
import { DataType } from '../../../src/sparkplug/DataType.ts';
import { decodePayload, encodePayload } from '../../../src/sparkplug/SparkplugCodec.ts';

/** One metric the simulated node declares in its BIRTH (alias = index + 1). */
export interface SimMetric {
  readonly name: string;
  readonly datatype: number;
  /** `engUnit` property sent in the BIRTH. */
  readonly unit?: string;
  /** The value member for this datatype (`int_value`, `double_value`…) and the value in the BIRTH. */
  readonly member: string;
  readonly initial: number | boolean | string;
}

export interface EdgeNodeOptions {
  readonly url: string;
  readonly group: string;
  readonly node: string;
  readonly metrics: readonly SimMetric[];
  /** Devices of the node, each with its own metrics. */
  readonly devices?: Readonly<Record<string, readonly SimMetric[]>>;
  /** bdSeq of this session (goes in the NBIRTH and in the NDEATH last will). */
  readonly bdSeq?: number;
  /** Answer `Node Control/Rebirth` commands with a new NBIRTH and DBIRTHs (default true). */
  readonly answerRebirth?: boolean;
  readonly now?: () => number;
}

/**
 * A Sparkplug B edge node for the tests (Sparkplug 3.0, 5.x "Edge Node" behaviour, only what a host must handle):
 * connects with its NDEATH as the MQTT last will, publishes NBIRTH (bdSeq, Node Control/Rebirth, its metrics with
 * aliases and engUnit properties) and a DBIRTH per device, then DATA with aliases only, one seq counter for the
 * node and its devices (0–255, wrapping). It answers Rebirth requests (NCMD) with new BIRTHs. `lose()` spends a
 * seq without publishing (a message lost on the way); `crash()` drops the TCP connection without DISCONNECT so
 * the broker publishes the last will. Payloads come from the gateway's own codec over the bundled schema.
 */
export class EdgeNode {
  readonly options: EdgeNodeOptions;
  readonly #client: MqttClient;
  readonly #now: () => number;
  #seq = 0;
  /** Rebirth requests received. */
  rebirthRequests = 0;
  /** Messages published (all types). */
  published = 0;

  private constructor(options: EdgeNodeOptions, client: MqttClient) {
    this.options = options;
    this.#client = client;
    this.#now = options.now ?? Date.now;
  }

  static async connect(options: EdgeNodeOptions): Promise<EdgeNode> {
    const { group, node } = options;
    const bdSeq = options.bdSeq ?? 0;
    const will = encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: bdSeq }] });
    const client = mqtt.connect(options.url, {
      clientId: `sim-${group}-${node}-${bdSeq}`,
      clean: true,
      protocolVersion: 4, // Sparkplug 3.0 requires 3.1.1 or 5; the last will works the same
      reconnectPeriod: 0,
      will: { topic: `spBv1.0/${group}/NDEATH/${node}`, payload: will, qos: 1, retain: false },
    });
    const sim = new EdgeNode(options, client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(`spBv1.0/${group}/NCMD/${node}`, { qos: 0 });
    client.on('message', (_topic, payload) => {
      const p = decodePayload(payload);
      if ('error' in p) return;
      if (p.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.boolean_value === true)) {
        sim.rebirthRequests++;
        if (options.answerRebirth ?? true) void sim.birth();
      }
    });
    return sim;
  }

  /** NBIRTH (seq 0) and a DBIRTH per device. */
  async birth(): Promise<void> {
    const { group, node, metrics, devices = {} } = this.options;
    this.#seq = 0;
    const t = this.#now();
    await this.#publish(`spBv1.0/${group}/NBIRTH/${node}`, {
      timestamp: t,
      seq: this.#next(),
      metrics: [
        { name: 'bdSeq', timestamp: t, datatype: DataType.UInt64, long_value: this.options.bdSeq ?? 0 },
        { name: 'Node Control/Rebirth', timestamp: t, datatype: DataType.Boolean, boolean_value: false },
        ...birthMetrics(metrics, t),
      ],
    });
    for (const [device, deviceMetrics] of Object.entries(devices)) {
      await this.#publish(`spBv1.0/${group}/DBIRTH/${node}/${device}`, {
        timestamp: t,
        seq: this.#next(),
        metrics: birthMetrics(deviceMetrics, t),
      });
    }
  }

  /** NDATA (or DDATA with `device`) of these metric values by alias (index in the BIRTH's list + 1). */
  async data(values: Readonly<Record<number, number | boolean | string>>, device?: string, timestamp = this.#now()): Promise<void> {
    const { group, node, metrics, devices = {} } = this.options;
    const list = device === undefined ? metrics : devices[device]!;
    const topic = device === undefined ? `spBv1.0/${group}/NDATA/${node}` : `spBv1.0/${group}/DDATA/${node}/${device}`;
    const out = Object.entries(values).map(([alias, value]) => ({
      alias: Number(alias),
      timestamp,
      [list[Number(alias) - 1]!.member]: value,
    }));
    await this.#publish(topic, { timestamp, seq: this.#next(), metrics: out });
  }

  /** Spends a seq without publishing: a message lost between the node and the host. */
  lose(): void {
    this.#next();
  }

  get seq(): number {
    return this.#seq;
  }

  /** Drops the connection without DISCONNECT: the broker publishes the NDEATH last will. */
  crash(): void {
    this.#client.stream.destroy();
    this.#client.end(true);
  }

  async end(): Promise<void> {
    await this.#client.endAsync(true);
  }

  #next(): number {
    const s = this.#seq;
    this.#seq = (this.#seq + 1) % 256;
    return s;
  }

  async #publish(topic: string, payload: Record<string, unknown>): Promise<void> {
    await this.#client.publishAsync(topic, encodePayload(payload), { qos: 1 });
    this.published++;
  }
}

function birthMetrics(metrics: readonly SimMetric[], t: number): Record<string, unknown>[] {
  return metrics.map((m, i) => ({
    name: m.name,
    alias: i + 1,
    timestamp: t,
    datatype: m.datatype,
    [m.member]: m.initial,
    ...(m.unit === undefined ? {} : { properties: { keys: ['engUnit'], values: [{ type: DataType.String, string_value: m.unit }] } }),
  }));
}
