import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { BuiltBatch } from './RedisBatchBuilder.ts';
import { confirmReplicas } from './confirmReplicas.ts';
import { groupBySlot, type SlotCall } from './groupBySlot.ts';
import type { RedisWriter, ReplicaWait } from './RedisWriter.ts';

export type ScriptCluster = Cluster & {
  edgebridgeBatchKeyed(numKeys: number, ...keysThenArgv: (string | Buffer)[]): Promise<[number, number, number]>;
};

type KeyedPipeline = ChainableCommander & { edgebridgeBatchKeyed(numKeys: number, ...keysThenArgv: (string | Buffer)[]): KeyedPipeline };

/**
 * Redis Cluster: one script call per hash slot, each declaring its keys so ioredis sends it to the slot's master
 * (and follows MOVED/ASK). The calls bound for one master go as one pipeline (ioredis's auto-pipelining cannot be
 * used: it routes a custom command by its first argument, here the key count), the pipelines side by side. A batch counts as written only when every call succeeded;
 * if one fails the whole batch is retried, and the slots that had landed skip their stream entries (de-dup) and
 * rewrite the same latest values (newer-wins).
 */
export class ClusterWriter implements RedisWriter {
  readonly #cluster: ScriptCluster;
  readonly #wait: ReplicaWait;

  constructor(cluster: ScriptCluster, wait: ReplicaWait) {
    this.#cluster = cluster;
    this.#wait = wait;
  }

  async write(built: BuiltBatch): Promise<number> {
    const calls = groupBySlot(built);
    // One pipeline per master (a pipeline must stay on one node); the pipelines run side by side.
    const byNode = new Map<string, SlotCall[]>();
    for (const call of calls) {
      const node = this.#cluster.slots[call.slot]?.join(',') ?? '';
      const list = byNode.get(node);
      if (list === undefined) byNode.set(node, [call]);
      else list.push(call);
    }
    const results = await Promise.allSettled(
      [...byNode.values()].map((group) => {
        const pipeline = this.#cluster.pipeline() as KeyedPipeline;
        for (const c of group) pipeline.edgebridgeBatchKeyed(c.keys.length, ...c.keys, ...c.argv);
        return pipeline.exec();
      }),
    );
    let skipped = 0;
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      for (const [error, reply] of r.value ?? []) {
        if (error) throw error;
        skipped += (reply as [number, number, number])[2];
      }
    }
    if (this.#wait.replicas > 0) {
      // WAIT is per connection: ask each master that took part of this batch, on the connection that wrote it.
      const masters = this.#mastersOf(calls.map((c) => c.slot));
      await Promise.all(masters.map(([key, node]) => confirmReplicas(this.#wait, (n, ms) => node.wait(n, ms), `master ${key}`)));
    }
    return skipped;
  }

  #mastersOf(slots: readonly number[]): [string, Redis][] {
    const wanted = new Set<string>();
    for (const slot of slots) {
      const key = this.#cluster.slots[slot]?.[0];
      if (key !== undefined) wanted.add(key);
    }
    const out: [string, Redis][] = [];
    for (const node of this.#cluster.nodes('master')) {
      const key = `${node.options.host}:${node.options.port}`;
      if (wanted.has(key)) out.push([key, node]);
    }
    return out;
  }
}
