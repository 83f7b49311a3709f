/**
 * One accepted MQTT message after decoding: what the spool stores and each sink reads.
 * Line protocol is the one serialisation: the InfluxDB sink sends it as is, the Redis sink reads it back (each
 * line's series key once per device, the fields directly; see RedisBatchBuilder).
 */
export interface Entry {
  /** Line protocol, one line per point, joined with '\n', no trailing newline; timestamps in microseconds. */
  readonly lines: string;
  /** Number of points (lines) in `lines`. */
  readonly points: number;
  /** Bit i set: sink i receives this entry. */
  readonly sinks: number;
  /** Arrival time at the gateway, epoch ms: backlog age and latency. */
  readonly receivedAt: number;
}

/** Bookkeeping per entry beyond its line protocol (object header, fields, array slot), in bytes. */
export const ENTRY_OVERHEAD_BYTES = 64;
