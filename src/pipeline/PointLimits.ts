/**
 * What one message may carry before it is refused (counted by reason, dead-lettered): a device must not be able
 * to make a point that a sink cannot take, or that costs the gateway out of proportion. Defaults and why:
 * docs/line-protocol.md "Limits".
 */
export interface PointLimits {
  /** Fields in one point; more → `too_many_fields`. Redis's Lua `unpack` fails near 4 000 (the whole batch with it). */
  readonly maxFields: number;
  /** UTF-8 bytes of a measurement, tag key, tag value or field key; longer → `too_long`. */
  readonly maxNameBytes: number;
  /** UTF-8 bytes of a string field value; longer → `too_long`. */
  readonly maxStringBytes: number;
  /** UTF-8 bytes of the message's topic; longer → `too_long` (its levels become tag values). */
  readonly maxTopicBytes: number;
}

export const DEFAULT_LIMITS: PointLimits = Object.freeze({
  maxFields: 1000,
  maxNameBytes: 512,
  maxStringBytes: 16384,
  maxTopicBytes: 1024,
});

/** Whether `text` is longer than `maxBytes` in UTF-8, without encoding it unless it might be (3 bytes per unit at most). */
export function overBytes(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true;
  return text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes;
}

/** The limits configured under `mqtt.*`. */
export function limitsOf(mqtt: {
  readonly maxFieldsPerPoint: number;
  readonly maxNameBytes: number;
  readonly maxStringBytes: number;
  readonly maxTopicBytes: number;
}): PointLimits {
  return {
    maxFields: mqtt.maxFieldsPerPoint,
    maxNameBytes: mqtt.maxNameBytes,
    maxStringBytes: mqtt.maxStringBytes,
    maxTopicBytes: mqtt.maxTopicBytes,
  };
}
