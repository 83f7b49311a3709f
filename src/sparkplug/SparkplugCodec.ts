import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';
import { SPARKPLUG_B_PROTO } from './sparkplugProto.ts';

/** A uint64 as protobufjs decodes it: a number, or a Long (`long` is installed with protobufjs) beyond 2^53. */
export interface Uint64Like {
  readonly low: number;
  readonly high: number;
}
export type Uint64 = number | Uint64Like;

export interface PropertyValue {
  readonly type?: number;
  readonly is_null?: boolean;
  readonly int_value?: number;
  readonly long_value?: Uint64;
  readonly float_value?: number;
  readonly double_value?: number;
  readonly boolean_value?: boolean;
  readonly string_value?: string;
  readonly propertyset_value?: PropertySet;
}

export interface PropertySet {
  readonly keys: readonly string[];
  readonly values: readonly PropertyValue[];
}

/** The members of a `value` oneof: which one was on the wire, `has()` tells. */
export interface DataSetValue {
  readonly int_value?: number;
  readonly long_value?: Uint64;
  readonly float_value?: number;
  readonly double_value?: number;
  readonly boolean_value?: boolean;
  readonly string_value?: string;
}

export interface DataSet {
  readonly num_of_columns?: Uint64;
  readonly columns: readonly string[];
  readonly types: readonly number[];
  readonly rows: readonly { readonly elements: readonly DataSetValue[] }[];
}

export interface Template {
  readonly version?: string;
  readonly metrics: readonly Metric[];
  readonly template_ref?: string;
  readonly is_definition?: boolean;
}

export interface Metric {
  readonly name?: string;
  readonly alias?: Uint64;
  readonly timestamp?: Uint64;
  readonly datatype?: number;
  readonly is_historical?: boolean;
  readonly is_transient?: boolean;
  readonly is_null?: boolean;
  readonly properties?: PropertySet;
  readonly int_value?: number;
  readonly long_value?: Uint64;
  readonly float_value?: number;
  readonly double_value?: number;
  readonly boolean_value?: boolean;
  readonly string_value?: string;
  readonly bytes_value?: Uint8Array;
  readonly dataset_value?: DataSet;
  readonly template_value?: Template;
}

export interface Payload {
  readonly timestamp?: Uint64;
  readonly metrics: readonly Metric[];
  readonly seq?: Uint64;
  readonly uuid?: string;
  readonly body?: Uint8Array;
}

// protobufjs (and the parsed schema) only once a Sparkplug payload is decoded or encoded: a gateway without a
// Sparkplug route never loads it (measured: 6.4 MB RSS loaded alone on top of Node and its built-ins).
// The schema is the bundled one, whatever a peer sends.
let payloadTypeOnce: Protobuf.Type | undefined;
function payloadType(): Protobuf.Type {
  if (payloadTypeOnce === undefined) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    const root = protobuf.parse(SPARKPLUG_B_PROTO, { keepCase: true }).root;
    flattenOneofs(protobuf, root);
    payloadTypeOnce = root.lookupType('org.eclipse.tahu.protobuf.Payload');
  }
  return payloadTypeOnce;
}

/**
 * Turns every `oneof value` into the plain optional fields it is on the wire (a oneof is a constraint of the
 * generated classes, not of the encoding: the bytes are the same). protobufjs sets a oneof's virtual discriminator
 * for each member it decodes, and its setter `delete`s every other member: measured, 23 % of the CPU of decoding an
 * NDATA of 10 metrics (bench/sparkplug.ts). Which member is present is then told by `has()`; the reader picks the
 * member the metric's datatype calls for, so a peer that sends two members cannot confuse it.
 */
function flattenOneofs(protobuf: typeof Protobuf, ns: Protobuf.NamespaceBase): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      for (const oneof of [...nested.oneofsArray]) {
        for (const field of [...oneof.fieldsArray]) oneof.remove(field);
        nested.remove(oneof);
      }
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) flattenOneofs(protobuf, nested);
  }
}

/** The decoded payload, or the reason protobuf could not read it (truncated, wrong wire type, bad UTF-8 length…). */
export function decodePayload(bytes: Uint8Array): Payload | { readonly error: string } {
  try {
    return payloadType().decode(bytes) as unknown as Payload;
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Encodes a payload given as plain objects (protobufjs `fromObject`: 64-bit values as numbers or decimal strings).
 * Used for the Rebirth command, and by the tests and the edge-node simulator, from the same schema.
 */
export function encodePayload(payload: Record<string, unknown>): Buffer {
  const type = payloadType();
  return Buffer.from(type.encode(type.fromObject(payload)).finish());
}

/** Whether an optional field was on the wire (proto2 defaults live on the prototype, set fields are own). */
export function has<T extends object>(message: T, field: keyof T & string): boolean {
  return Object.hasOwn(message, field);
}

/** A uint64 as a number when it is a safe integer, else as a bigint (read unsigned). */
export function uint64(value: Uint64): number | bigint {
  if (typeof value === 'number') return value;
  const high = value.high >>> 0;
  const low = value.low >>> 0;
  if (high < 0x200000) return high * 0x100000000 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** The same 64 bits read as a two's-complement int64 (Sparkplug carries Int64 in the uint64 `long_value`). */
export function int64(value: Uint64): number | bigint {
  const u = uint64(value);
  if (typeof u === 'number') return u;
  const s = BigInt.asIntN(64, u);
  return s >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(s) : s;
}
