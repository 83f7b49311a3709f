import { type NodeState, nodeKey, recordOf, stateOf } from './NodeState.ts';
import type { SparkplugStats } from './SparkplugStats.ts';
import type { SparkplugStore } from './SparkplugStore.ts';

export interface NodeTableOptions {
  readonly stats: SparkplugStats;
  /** Where the states are kept across restarts; undefined: memory only. */
  readonly store: SparkplugStore | undefined;
  /** Nodes kept; beyond, the least recently heard from is forgotten (counted, its record removed). */
  readonly maxNodes: number;
  /** Told of each store error (the gateway logs it). */
  readonly onStoreError?: ((message: string) => void) | undefined;
}

/**
 * The edge nodes' states, least recently heard from first (the Map's order is the eviction order), their counts
 * in the stats, and their persistence: `save` after each BIRTH and DEATH (written in the background, coalesced:
 * SparkplugStore). A store error, at once or in the background, is counted and remembered; the state in memory
 * stays right.
 */
export class NodeTable {
  readonly #options: NodeTableOptions;
  readonly #nodes = new Map<string, NodeState>();

  constructor(options: NodeTableOptions) {
    this.#options = options;
  }

  /** Loads the kept states; returns what could not be read. */
  load(): string[] {
    const { store, stats } = this.#options;
    if (store === undefined) return [];
    let loaded: ReturnType<SparkplugStore['load']>;
    try {
      loaded = store.load((error) => this.#storeError(error));
    } catch (error) {
      this.#storeError(error);
      return [String(error)];
    }
    for (const r of loaded.records) this.remember(stateOf(r));
    this.count();
    stats.storeErrors += loaded.unreadable.length;
    return loaded.unreadable;
  }

  /** Waits for the store's last write (the gateway's stop). */
  async close(): Promise<void> {
    await this.#options.store?.close();
  }

  get(key: string): NodeState | undefined {
    return this.#nodes.get(key);
  }

  /** Adds (or replaces, as the most recent) a node's state; evicts the least recently heard from beyond maxNodes. */
  remember(state: NodeState): void {
    const nodes = this.#nodes;
    const key = nodeKey(state.group, state.node);
    nodes.delete(key);
    nodes.set(key, state);
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

  /** Most recently heard from last. */
  touch(key: string, state: NodeState): void {
    this.#nodes.delete(key);
    this.#nodes.set(key, state);
  }

  /** Sets the known and online node counts in the stats. */
  count(): void {
    let online = 0;
    for (const s of this.#nodes.values()) if (s.life.kind === 'online') online++;
    this.#options.stats.nodes = this.#nodes.size;
    this.#options.stats.nodesOnline = online;
  }

  save(state: NodeState): void {
    const store = this.#options.store;
    if (store === undefined) return;
    try {
      store.save(recordOf(state));
    } catch (error) {
      this.#storeError(error);
    }
  }

  #storeError(error: unknown): void {
    this.#options.stats.storeErrors++;
    const message = error instanceof Error ? error.message : String(error);
    this.#options.stats.lastStoreError = message;
    this.#options.onStoreError?.(message);
  }
}
