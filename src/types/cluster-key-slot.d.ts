// cluster-key-slot (ioredis's own slot function) ships no types.
declare module 'cluster-key-slot' {
  interface CalculateSlot {
    /** Redis Cluster hash slot (0-16383) of a key, honouring `{hash tags}`. */
    (key: string): number;
    /** The common slot of all keys, or -1 when they differ. */
    generateMulti(keys: readonly string[]): number;
  }
  const calculateSlot: CalculateSlot;
  export = calculateSlot;
}
