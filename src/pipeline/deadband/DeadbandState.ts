import type { FieldMemory } from './Deadband.ts';

/**
 * A route's deadband memory: series × field key → FieldMemory, bounded by `capacity` as an LRU (a Map keeps
 * insertion order: a read moves its key to the end, an insert beyond capacity drops the first). A forgotten series
 * is written at its next value, as a first one: eviction costs a point, never loses one. Evictions are counted.
 */
export class DeadbandState {
  readonly capacity: number;
  readonly #map = new Map<string, FieldMemory>();
  readonly #counter: { evictions: number };

  /** `counter`: where evictions are counted (default: its own); the gateway's outlives a reload. */
  constructor(capacity: number, counter: { evictions: number } = { evictions: 0 }) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`);
    this.capacity = capacity;
    this.#counter = counter;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Entries dropped because the state was full (on the counter given). */
  get evictions(): number {
    return this.#counter.evictions;
  }

  /** The memory of `key`, now the most recently used; undefined when unknown (or forgotten). */
  get(key: string): FieldMemory | undefined {
    const map = this.#map;
    const memory = map.get(key);
    if (memory !== undefined) {
      map.delete(key);
      map.set(key, memory);
    }
    return memory;
  }

  /** Stores a new key's memory (a known key's memory is updated in place and needs no set), evicting the oldest. */
  set(key: string, memory: FieldMemory): void {
    const map = this.#map;
    map.set(key, memory);
    if (map.size > this.capacity) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
      this.#counter.evictions++;
    }
  }
}
