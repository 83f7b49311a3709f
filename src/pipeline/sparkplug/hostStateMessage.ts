/**
 * A Sparkplug 3.0 host application's STATE message (chapter 4, "Sparkplug Host Application"): on
 * `spBv1.0/STATE/<sparkplug_host_id>`, QoS 1, retained, a JSON UTF-8 payload of exactly two keys, `online` (boolean)
 * and `timestamp` (UTC epoch ms). Not a Sparkplug B protobuf payload, so that hosts work across payload types.
 */
export interface HostStatePayload {
  readonly online: boolean;
  readonly timestamp: number;
}

export function hostStateTopic(hostId: string): string {
  return `spBv1.0/STATE/${hostId}`;
}

/** `{"online":true,"timestamp":1700000000000}`: the key order of the specification's examples. */
export function hostStatePayload(online: boolean, timestamp: number): Buffer {
  return Buffer.from(JSON.stringify({ online, timestamp }));
}

/** The payload read back; undefined when it is not a 3.0 STATE (a 2.x `OFFLINE` string, other JSON, bad bytes). */
export function readHostState(payload: Buffer): HostStatePayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { online, timestamp } = value as Record<string, unknown>;
  if (typeof online !== 'boolean' || typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return undefined;
  return { online, timestamp };
}
