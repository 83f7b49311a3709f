import { DataType } from '../../sparkplug/DataType.ts';
import { encodePayload, has, type Metric, type Payload, type PropertyValue, uint64 } from '../../sparkplug/SparkplugCodec.ts';
import { nodeCommandTopic, type SparkplugTopic } from '../../topic/SparkplugTopic.ts';
import type { RejectReason } from '../RouteResult.ts';
import { aliasKey } from './metricFields.ts';
import type { SparkplugStats } from './SparkplugStats.ts';
import type { MetricDef, NodeRecord, SparkplugStore } from './SparkplugStore.ts';

/** A metric of a message with its name, datatype and property tags resolved from the BIRTH. */
export interface ResolvedMetric {
  readonly name: string;
  readonly datatype: number;
  readonly metric: Metric;
  readonly tags: readonly (readonly [string, string])[];
}

/** A node or device going online or offline: written as a status point. */
export interface StatusEvent {
  readonly device: string | undefined;
  readonly online: boolean;
  readonly event: 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH';
  readonly bdSeq: string | undefined;
}

export type HostOutcome =
  | { readonly kind: 'write'; readonly metrics: readonly ResolvedMetric[]; readonly status: readonly StatusEvent[] }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string };

export interface SparkplugHostOptions {
  readonly stats: SparkplugStats;
  /** Where the alias maps are kept across restarts; undefined: memory only (spool.type=memory). */
  readonly store?: SparkplugStore;
  /** Send Rebirth requests (NCMD `Node Control/Rebirth`): off by default, since it writes to the plant. */
  readonly rebirth: boolean;
  /** At most one Rebirth request per node per this many ms. */
  readonly rebirthMinIntervalMs: number;
  /** Edge nodes kept; beyond, the least recently heard from is forgotten (counted). */
  readonly maxNodes: number;
  /** Metric property keys written as tags (`engUnit`). */
  readonly propertyTags: readonly string[];
  /** Hands an MQTT message to the broker connection; false when it cannot (not connected). */
  readonly publish?: (topic: string, payload: Buffer) => boolean;
  readonly now?: () => number;
}

/** Metrics one BIRTH may declare; more is refused (`too_many_fields`): the alias map is kept in memory and on disk. */
export const MAX_BIRTH_METRICS = 10_000;

interface Scope {
  readonly defs: readonly MetricDef[];
  readonly byAlias: Map<number | string, MetricDef>;
  readonly byName: Map<string, MetricDef>;
}

/** A node's life: `online` with the last seq seen (undefined after a restart until the first message), or `offline`. */
type NodeLife = { readonly kind: 'online'; lastSeq: number | undefined } | { readonly kind: 'offline' };

interface NodeState {
  readonly group: string;
  readonly node: string;
  bdSeq: string | undefined;
  life: NodeLife;
  scope: Scope;
  readonly devices: Map<string, { online: boolean; scope: Scope }>;
  /** When the last Rebirth request went out (epoch ms), for the rate limit. */
  rebirthAt: number;
}

const IGNORED: HostOutcome = Object.freeze({ kind: 'ignored' });
const EMPTY_SCOPE: Scope = { defs: [], byAlias: new Map(), byName: new Map() };

/**
 * The Sparkplug B host application's state (Sparkplug 3.0.0, chapter 5 "Operational Behavior"): per edge node the
 * alias → name and datatype map of its last NBIRTH and of each device's DBIRTH, its bdSeq, whether it and its
 * devices are online, and its `seq` (0–255, wrapping; one counter per node for all its and its devices' messages).
 * Refused, with the reason (the message is dead-lettered by the source): data from a node or device without a BIRTH
 * (`sparkplug_no_birth`), a seq that is not the last + 1 (`sparkplug_seq_gap`: a message was lost or reordered; the
 * count resynchronises on it), an alias the BIRTH did not declare (`sparkplug_unknown_alias`), and an NDEATH whose
 * bdSeq is not the NBIRTH's (`sparkplug_stale_death`: the death of an older session, after the node was born again).
 * Each of the first three asks the node for a Rebirth when `rebirth` is on (rate-limited per node).
 */
export class SparkplugHost {
  readonly #options: SparkplugHostOptions;
  readonly #now: () => number;
  readonly #nodes = new Map<string, NodeState>();
  /** When a Rebirth was last asked of a node not known yet (no state to hold it); bounded like the nodes. */
  readonly #unbornAsked = new Map<string, number>();
  #online = 0;

  constructor(options: SparkplugHostOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get stats(): SparkplugStats {
    return this.#options.stats;
  }

  /** Loads the alias maps kept by the store; returns the files it could not read. */
  start(): string[] {
    const store = this.#options.store;
    if (store === undefined) return [];
    let loaded: ReturnType<SparkplugStore['load']>;
    try {
      loaded = store.load();
    } catch (error) {
      this.#storeError(error);
      return [String(error)];
    }
    for (const r of loaded.records) {
      const devices = new Map(Object.entries(r.devices ?? {}).map(([id, d]) => [id, { online: d.online, scope: scopeOf(d.metrics) }]));
      const state: NodeState = {
        group: r.group,
        node: r.node,
        bdSeq: r.bdSeq,
        life: r.online ? { kind: 'online', lastSeq: undefined } : { kind: 'offline' },
        scope: scopeOf(r.metrics),
        devices,
        rebirthAt: Number.NEGATIVE_INFINITY,
      };
      this.#remember(state);
    }
    this.#count();
    this.#options.stats.storeErrors += loaded.unreadable.length;
    return loaded.unreadable;
  }

  handle(topic: SparkplugTopic, payload: Payload): HostOutcome {
    if (topic.kind === 'invalid') return rejected('bad_sparkplug', topic.error);
    if (topic.kind === 'state' || topic.type === 'NCMD' || topic.type === 'DCMD') return IGNORED;
    const key = `${topic.group}\u0000${topic.node}`;
    const seq = has(payload, 'seq') ? uint64(payload.seq!) : undefined;
    if (seq !== undefined && (typeof seq !== 'number' || seq > 255)) return rejected('bad_sparkplug', `seq ${seq} is not 0-255`);
    switch (topic.type) {
      case 'NBIRTH':
        return this.#nodeBirth(key, topic.group, topic.node, payload, seq);
      case 'NDEATH':
        return this.#nodeDeath(key, payload);
    }
    const state = this.#nodes.get(key);
    if (state === undefined || state.life.kind !== 'online') {
      this.#rebirth(topic.group, topic.node, state);
      const why = state === undefined ? 'no NBIRTH seen' : 'the node is offline (NDEATH) and has not been born again';
      return rejected('sparkplug_no_birth', `${topic.type} from ${topic.group}/${topic.node}: ${why}`);
    }
    this.#touch(key, state);
    const gap = this.#checkSeq(state, seq, topic.type);
    if (gap !== undefined) return gap;
    if (topic.kind === 'node') return this.#data(state, state.scope, payload, topic.type);
    const device = state.devices.get(topic.device);
    switch (topic.type) {
      case 'DBIRTH':
        return this.#deviceBirth(state, topic.device, payload);
      case 'DDEATH':
        if (device === undefined || !device.online)
          return rejected('sparkplug_no_birth', `DDEATH of ${topic.device}: the device is not online`);
        device.online = false;
        this.#save(state);
        return { kind: 'write', metrics: [], status: [{ device: topic.device, online: false, event: 'DDEATH', bdSeq: undefined }] };
      case 'DDATA':
        if (device === undefined || !device.online) {
          this.#rebirth(state.group, state.node, state);
          return rejected('sparkplug_no_birth', `DDATA from ${state.group}/${state.node}/${topic.device}: no DBIRTH seen`);
        }
        return this.#data(state, device.scope, payload, topic.type);
    }
  }

  #nodeBirth(key: string, group: string, node: string, payload: Payload, seq: number | bigint | undefined): HostOutcome {
    const defs = this.#birthDefs(payload, 'NBIRTH');
    if (!Array.isArray(defs)) return defs as HostOutcome;
    const bdSeqMetric = payload.metrics.find((m) => m.name === 'bdSeq');
    const bdSeq = bdSeqMetric === undefined ? undefined : metricText(bdSeqMetric);
    const old = this.#nodes.get(key);
    const asked = this.#unbornAsked.get(key);
    this.#unbornAsked.delete(key);
    const state: NodeState = {
      group,
      node,
      bdSeq,
      life: { kind: 'online', lastSeq: seq as number | undefined },
      scope: scopeOf(defs),
      devices: new Map(), // a new session: the devices are born again after it
      rebirthAt: old?.rebirthAt ?? asked ?? Number.NEGATIVE_INFINITY,
    };
    this.#nodes.delete(key);
    this.#remember(state);
    this.#count();
    this.#save(state);
    return {
      kind: 'write',
      metrics: resolveAll(payload.metrics, state.scope),
      status: [{ device: undefined, online: true, event: 'NBIRTH', bdSeq }],
    };
  }

  #nodeDeath(key: string, payload: Payload): HostOutcome {
    const state = this.#nodes.get(key);
    const bdSeqMetric = payload.metrics.find((m) => m.name === 'bdSeq');
    const bdSeq = bdSeqMetric === undefined ? undefined : metricText(bdSeqMetric);
    if (state === undefined) return rejected('sparkplug_stale_death', `NDEATH (bdSeq ${bdSeq}) of a node with no NBIRTH seen`);
    if (state.life.kind !== 'online') return rejected('sparkplug_stale_death', `NDEATH (bdSeq ${bdSeq}): the node is already offline`);
    if (bdSeq !== state.bdSeq) {
      return rejected(
        'sparkplug_stale_death',
        `NDEATH bdSeq ${bdSeq} does not match the NBIRTH's ${state.bdSeq}: the death of an earlier session`,
      );
    }
    state.life = { kind: 'offline' };
    const status: StatusEvent[] = [{ device: undefined, online: false, event: 'NDEATH', bdSeq }];
    for (const [id, device] of state.devices) {
      if (!device.online) continue;
      device.online = false;
      status.push({ device: id, online: false, event: 'NDEATH', bdSeq: undefined });
    }
    this.#count();
    this.#save(state);
    return { kind: 'write', metrics: [], status };
  }

  #deviceBirth(state: NodeState, device: string, payload: Payload): HostOutcome {
    const defs = this.#birthDefs(payload, 'DBIRTH');
    if (!Array.isArray(defs)) return defs as HostOutcome;
    const scope = scopeOf(defs);
    state.devices.set(device, { online: true, scope });
    this.#save(state);
    return {
      kind: 'write',
      metrics: resolveAll(payload.metrics, scope),
      status: [{ device, online: true, event: 'DBIRTH', bdSeq: undefined }],
    };
  }

  #data(state: NodeState, scope: Scope, payload: Payload, type: string): HostOutcome {
    const metrics = payload.metrics;
    const out: ResolvedMetric[] = [];
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i]!;
      let def: MetricDef | undefined;
      if (has(m, 'alias')) def = scope.byAlias.get(aliasKey(m.alias!));
      else if (m.name !== '') def = scope.byName.get(m.name!);
      if (def === undefined) {
        this.#rebirth(state.group, state.node, state);
        const which = has(m, 'alias')
          ? `alias ${aliasKey(m.alias!)}`
          : m.name === ''
            ? 'a metric with neither alias nor name'
            : `name "${m.name!.slice(0, 64)}"`;
        return rejected('sparkplug_unknown_alias', `${type} metric ${i}: ${which} is not in the last BIRTH`);
      }
      out.push({
        name: def[1],
        datatype: has(m, 'datatype') ? m.datatype! : def[2],
        metric: m,
        tags: propertyTags(m, this.#options.propertyTags) ?? def[3],
      });
    }
    return { kind: 'write', metrics: out, status: [] };
  }

  /** The metric definitions of a BIRTH, or why it is refused. */
  #birthDefs(payload: Payload, type: string): MetricDef[] | HostOutcome {
    const metrics = payload.metrics;
    if (metrics.length > MAX_BIRTH_METRICS)
      return rejected('too_many_fields', `${type} declares ${metrics.length} metrics > ${MAX_BIRTH_METRICS}`);
    const defs: MetricDef[] = [];
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i]!;
      if (!has(m, 'name') || m.name === '') return rejected('bad_sparkplug', `${type} metric ${i} has no name`);
      if (!has(m, 'datatype')) return rejected('bad_sparkplug', `${type} metric "${m.name!.slice(0, 64)}" has no datatype`);
      const tags = propertyTags(m, this.#options.propertyTags) ?? [];
      defs.push([has(m, 'alias') ? aliasKey(m.alias!) : null, m.name!, m.datatype!, tags]);
    }
    return defs;
  }

  /** A seq that is not the last + 1 (mod 256): refused, and the count resynchronised on it. */
  #checkSeq(state: NodeState, seq: number | bigint | undefined, type: string): HostOutcome | undefined {
    if (state.life.kind !== 'online' || seq === undefined) return undefined;
    const last = state.life.lastSeq;
    state.life.lastSeq = seq as number;
    if (last === undefined) return undefined;
    const expected = (last + 1) % 256;
    if (seq === expected) return undefined;
    this.#rebirth(state.group, state.node, state);
    const lost = ((seq as number) - expected + 256) % 256;
    return rejected(
      'sparkplug_seq_gap',
      `${type} seq ${seq} after ${last} (expected ${expected}): ${lost} message(s) lost or out of order`,
    );
  }

  /** Asks the node for a Rebirth when enabled and its last request is older than the minimum interval. */
  #rebirth(group: string, node: string, state: NodeState | undefined): void {
    const { stats, rebirth, rebirthMinIntervalMs, publish, maxNodes } = this.#options;
    const now = this.#now();
    const key = `${group}\u0000${node}`;
    const last = state?.rebirthAt ?? this.#unbornAsked.get(key) ?? Number.NEGATIVE_INFINITY;
    if (!rebirth || publish === undefined || now - last < rebirthMinIntervalMs) {
      stats.rebirthsSuppressed++;
      return;
    }
    if (state !== undefined) {
      state.rebirthAt = now;
    } else {
      // A node never born sending data: one request per interval too, not one per message.
      if (this.#unbornAsked.size >= maxNodes) this.#unbornAsked.clear();
      this.#unbornAsked.set(key, now);
    }
    const payload = encodePayload({
      timestamp: now,
      metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, boolean_value: true }],
    });
    if (publish(nodeCommandTopic(group, node), payload)) stats.rebirthsSent++;
    else stats.rebirthsUnsent++;
  }

  #remember(state: NodeState): void {
    const nodes = this.#nodes;
    nodes.set(`${state.group}\u0000${state.node}`, state);
    if (nodes.size > this.#options.maxNodes) {
      const [oldestKey, oldest] = nodes.entries().next().value!;
      nodes.delete(oldestKey);
      this.#options.stats.nodesEvicted++;
      try {
        this.#options.store?.remove(oldest.group, oldest.node);
      } catch (error) {
        this.#storeError(error);
      }
    }
  }

  /** Most recently heard from last: the Map's order is the eviction order. */
  #touch(key: string, state: NodeState): void {
    this.#nodes.delete(key);
    this.#nodes.set(key, state);
  }

  #count(): void {
    let online = 0;
    for (const s of this.#nodes.values()) if (s.life.kind === 'online') online++;
    this.#online = online;
    this.#options.stats.nodes = this.#nodes.size;
    this.#options.stats.nodesOnline = this.#online;
  }

  #save(state: NodeState): void {
    const store = this.#options.store;
    if (store === undefined) return;
    const devices: Record<string, { online: boolean; metrics: readonly MetricDef[] }> = {};
    for (const [id, d] of state.devices) devices[id] = { online: d.online, metrics: d.scope.defs };
    const record: NodeRecord = {
      group: state.group,
      node: state.node,
      bdSeq: state.bdSeq,
      online: state.life.kind === 'online',
      metrics: state.scope.defs,
      devices,
    };
    try {
      store.save(record);
    } catch (error) {
      this.#storeError(error);
    }
  }

  #storeError(error: unknown): void {
    this.#options.stats.storeErrors++;
    this.#options.stats.lastStoreError = error instanceof Error ? error.message : String(error);
  }
}

function rejected(reason: RejectReason, detail: string): HostOutcome {
  return { kind: 'rejected', reason, detail };
}

function scopeOf(defs: readonly MetricDef[]): Scope {
  if (defs.length === 0) return EMPTY_SCOPE;
  const byAlias = new Map<number | string, MetricDef>();
  const byName = new Map<string, MetricDef>();
  for (const d of defs) {
    if (d[0] !== null) byAlias.set(d[0], d);
    byName.set(d[1], d);
  }
  return { defs, byAlias, byName };
}

/** A BIRTH's metrics with their own names and datatypes (checked by #birthDefs), and the tags of its scope. */
function resolveAll(metrics: readonly Metric[], scope: Scope): ResolvedMetric[] {
  return metrics.map((m) => {
    const def = scope.byName.get(m.name!)!;
    return { name: def[1], datatype: def[2], metric: m, tags: def[3] };
  });
}

/** The configured property keys of a metric as tags; undefined when the metric carries no properties. */
function propertyTags(m: Metric, keys: readonly string[]): (readonly [string, string])[] | undefined {
  if (!has(m, 'properties') || keys.length === 0) return undefined;
  const props = m.properties!;
  const tags: (readonly [string, string])[] = [];
  for (let i = 0; i < props.keys.length; i++) {
    const key = props.keys[i]!;
    if (!keys.includes(key)) continue;
    const text = propertyText(props.values[i]);
    if (text !== undefined && text !== '') tags.push([key, text]);
  }
  return tags;
}

function propertyText(v: PropertyValue | undefined): string | undefined {
  if (v === undefined || v.is_null) return undefined;
  if (has(v, 'string_value')) return v.string_value;
  if (has(v, 'int_value')) return String(v.int_value);
  if (has(v, 'long_value')) return String(uint64(v.long_value!));
  if (has(v, 'float_value')) return String(v.float_value);
  if (has(v, 'double_value')) return String(v.double_value);
  if (has(v, 'boolean_value')) return String(v.boolean_value);
  return undefined;
}

/** The bdSeq metric's value as decimal text (Int64 or UInt64 on the wire; some peers send an int_value). */
function metricText(m: Metric): string | undefined {
  if (has(m, 'long_value')) return String(uint64(m.long_value!));
  if (has(m, 'int_value')) return String(m.int_value);
  return undefined;
}
