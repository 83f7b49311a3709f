import { has, type Payload, uint64 } from '../../sparkplug/SparkplugCodec.ts';
import type { SparkplugTopic } from '../../topic/SparkplugTopic.ts';
import { bdSeqOf, birthDefs, resolveBirth, resolveData } from './birthMetrics.ts';
import { type HostOutcome, IGNORED, rejected, type StatusEvent } from './HostOutcome.ts';
import { NodeTable } from './NodeTable.ts';
import { type NodeState, nodeKey, type Scope, scopeOf } from './NodeState.ts';
import { RebirthRequests } from './RebirthRequests.ts';
import type { SparkplugStats } from './SparkplugStats.ts';
import type { SparkplugStore } from './SparkplugStore.ts';
import { seqGap } from './seqGap.ts';

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
  /** Told of each error of the store (a write that failed: tried again later; the state in memory stays right). */
  readonly onStoreError?: (message: string) => void;
}

/**
 * The Sparkplug B host application's state (Sparkplug 3.0.0, chapter 5 "Operational Behavior"): per edge node the
 * alias → name and datatype map of its last NBIRTH and of each device's DBIRTH, its bdSeq, whether it and its
 * devices are online, and its `seq` (0–255, wrapping; one counter per node for all its and its devices' messages).
 * Refused, with the reason (the message is dead-lettered by the source): data from a node or device without a BIRTH
 * (`sparkplug_no_birth`), a seq that is not the last + 1 (`sparkplug_seq_gap`: a message was lost or reordered; the
 * count resynchronises on it), an alias the BIRTH did not declare (`sparkplug_unknown_alias`), and an NDEATH whose
 * bdSeq is not the NBIRTH's (`sparkplug_stale_death`: the death of an older session, after the node was born again).
 * Each of the first three asks the node for a Rebirth when `rebirth` is on (rate-limited per node: RebirthRequests).
 */
export class SparkplugHost {
  readonly #options: SparkplugHostOptions;
  readonly #nodes: NodeTable;
  readonly #rebirths: RebirthRequests;

  constructor(options: SparkplugHostOptions) {
    this.#options = options;
    this.#nodes = new NodeTable({
      stats: options.stats,
      store: options.store,
      maxNodes: options.maxNodes,
      onStoreError: options.onStoreError,
    });
    this.#rebirths = new RebirthRequests({
      stats: options.stats,
      enabled: options.rebirth,
      minIntervalMs: options.rebirthMinIntervalMs,
      maxNodes: options.maxNodes,
      publish: options.publish,
      now: options.now ?? Date.now,
    });
  }

  get stats(): SparkplugStats {
    return this.#options.stats;
  }

  /** Loads the alias maps kept by the store; returns the files it could not read. */
  start(): string[] {
    return this.#nodes.load();
  }

  /** Waits until the alias maps changed so far are on disk (after the source has stopped). */
  stop(): Promise<void> {
    return this.#nodes.close();
  }

  handle(topic: SparkplugTopic, payload: Payload): HostOutcome {
    if (topic.kind === 'invalid') return rejected('bad_sparkplug', topic.error);
    if (topic.kind === 'state' || topic.type === 'NCMD' || topic.type === 'DCMD') return IGNORED;
    const key = nodeKey(topic.group, topic.node);
    const wire = has(payload, 'seq') ? uint64(payload.seq!) : undefined;
    if (wire !== undefined && (typeof wire !== 'number' || wire > 255)) return rejected('bad_sparkplug', `seq ${wire} is not 0-255`);
    const seq = wire as number | undefined;
    switch (topic.type) {
      case 'NBIRTH':
        return this.#nodeBirth(key, topic.group, topic.node, payload, seq);
      case 'NDEATH':
        return this.#nodeDeath(key, payload);
    }
    const state = this.#nodes.get(key);
    if (state === undefined || state.life.kind !== 'online') {
      this.#rebirths.ask(topic.group, topic.node, state);
      const why = state === undefined ? 'no NBIRTH seen' : 'the node is offline (NDEATH) and has not been born again';
      return rejected('sparkplug_no_birth', `${topic.type} from ${topic.group}/${topic.node}: ${why}`);
    }
    this.#nodes.touch(key, state);
    const gap = seqGap(state, seq, topic.type);
    if (gap !== undefined) {
      this.#rebirths.ask(state.group, state.node, state);
      return rejected('sparkplug_seq_gap', gap);
    }
    if (topic.kind === 'node') return this.#data(state, state.scope, payload, topic.type);
    const device = state.devices.get(topic.device);
    switch (topic.type) {
      case 'DBIRTH':
        return this.#deviceBirth(state, topic.device, payload);
      case 'DDEATH':
        if (device === undefined || !device.online)
          return rejected('sparkplug_no_birth', `DDEATH of ${topic.device}: the device is not online`);
        device.online = false;
        this.#nodes.save(state);
        return { kind: 'write', metrics: [], status: [{ device: topic.device, online: false, event: 'DDEATH', bdSeq: undefined }] };
      case 'DDATA':
        if (device === undefined || !device.online) {
          this.#rebirths.ask(state.group, state.node, state);
          return rejected('sparkplug_no_birth', `DDATA from ${state.group}/${state.node}/${topic.device}: no DBIRTH seen`);
        }
        return this.#data(state, device.scope, payload, topic.type);
    }
  }

  #nodeBirth(key: string, group: string, node: string, payload: Payload, seq: number | undefined): HostOutcome {
    const defs = birthDefs(payload, 'NBIRTH', this.#options.propertyTags);
    if (!Array.isArray(defs)) return defs as HostOutcome;
    const bdSeq = bdSeqOf(payload);
    const old = this.#nodes.get(key);
    const asked = this.#rebirths.takeUnborn(key);
    const state: NodeState = {
      group,
      node,
      bdSeq,
      life: { kind: 'online', lastSeq: seq },
      scope: scopeOf(defs),
      devices: new Map(), // a new session: the devices are born again after it
      rebirthAt: old?.rebirthAt ?? asked ?? Number.NEGATIVE_INFINITY,
    };
    this.#nodes.remember(state);
    this.#nodes.count();
    this.#nodes.save(state);
    return {
      kind: 'write',
      metrics: resolveBirth(payload.metrics, state.scope),
      status: [{ device: undefined, online: true, event: 'NBIRTH', bdSeq }],
    };
  }

  #nodeDeath(key: string, payload: Payload): HostOutcome {
    const state = this.#nodes.get(key);
    const bdSeq = bdSeqOf(payload);
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
    this.#nodes.count();
    this.#nodes.save(state);
    return { kind: 'write', metrics: [], status };
  }

  #deviceBirth(state: NodeState, device: string, payload: Payload): HostOutcome {
    const defs = birthDefs(payload, 'DBIRTH', this.#options.propertyTags);
    if (!Array.isArray(defs)) return defs as HostOutcome;
    const scope = scopeOf(defs);
    state.devices.set(device, { online: true, scope });
    this.#nodes.save(state);
    return {
      kind: 'write',
      metrics: resolveBirth(payload.metrics, scope),
      status: [{ device, online: true, event: 'DBIRTH', bdSeq: undefined }],
    };
  }

  #data(state: NodeState, scope: Scope, payload: Payload, type: string): HostOutcome {
    const metrics = resolveData(payload.metrics, scope, this.#options.propertyTags);
    if (Array.isArray(metrics)) return { kind: 'write', metrics, status: [] };
    this.#rebirths.ask(state.group, state.node, state);
    const unknown = metrics as { index: number; which: string };
    return rejected('sparkplug_unknown_alias', `${type} metric ${unknown.index}: ${unknown.which} is not in the last BIRTH`);
  }
}
