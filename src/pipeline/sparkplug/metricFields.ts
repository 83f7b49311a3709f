import { quoteString } from '../../lineprotocol/escape.ts';
import { DataType, dataTypeName } from '../../sparkplug/DataType.ts';
import { type DataSet, has, type Metric, type Template, int64, uint64, type Uint64 } from '../../sparkplug/SparkplugCodec.ts';
import { overBytes } from '../PointLimits.ts';

/** Why a metric (or a part of one) wrote nothing: the labels of `edgebridge_sparkplug_metrics_skipped_total{reason}`. */
export const SKIP_REASONS = [
  'bytes',
  'null',
  'not_finite',
  'too_long',
  'unsupported',
  'bad_name',
  'definition',
  'too_deep',
  'bad_time',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Where a metric's values go: field name (unescaped) → value as line protocol writes it (`1.5`, `3i`, `7u`, `T`, `"x"`). */
export interface FieldSink {
  field(name: string, value: string): void;
  skip(reason: SkipReason): void;
}

/** A value carrier: a metric, a DataSet cell or a template parameter (the same `*_value` members). */
type Carrier = Pick<Metric, 'int_value' | 'long_value' | 'float_value' | 'double_value' | 'boolean_value' | 'string_value'> &
  Partial<Pick<Metric, 'bytes_value' | 'dataset_value' | 'template_value'>>;

/** Templates inside templates beyond this depth are not flattened (counted `too_deep`): a payload must not recurse the stack away. */
export const MAX_TEMPLATE_DEPTH = 16;

/**
 * Writes one metric's value as fields named after it. Scalars give one field `name`; a DataSet gives
 * `name/<row>/<column>`; a Template instance `name/<member>` (recursively); an array `name/<index>`. Signed
 * integers are carried in the unsigned `int_value`/`long_value` members as two's complement and read back by width;
 * unsigned ones are written unsigned (`u`), as their exact digits beyond 2^53. Float is the float32 on the wire
 * written in its shortest form (0.1, not 0.10000000149011612); DateTime is epoch ms as an integer.
 */
export function metricFields(name: string, datatype: number, m: Carrier, out: FieldSink, maxStringBytes: number, depth = 0): void {
  switch (datatype) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16:
    case DataType.UInt32:
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime:
    case DataType.Float:
    case DataType.Double:
    case DataType.Boolean:
    case DataType.String:
    case DataType.Text:
    case DataType.UUID: {
      const text = scalar(datatype, m, maxStringBytes);
      if (typeof text === 'string') out.field(name, text);
      else out.skip(text.skip);
      return;
    }
    case DataType.Bytes:
    case DataType.File:
      out.skip('bytes');
      return;
    case DataType.DataSet:
      if (!has(m, 'dataset_value')) out.skip('null');
      else dataSetFields(name, m.dataset_value!, out, maxStringBytes);
      return;
    case DataType.Template:
      if (!has(m, 'template_value')) out.skip('null');
      else templateFields(name, m.template_value!, out, maxStringBytes, depth);
      return;
    default:
      if (datatype >= DataType.Int8Array && datatype <= DataType.DateTimeArray) {
        if (!has(m, 'bytes_value')) out.skip('null');
        else arrayFields(name, datatype, m.bytes_value!, out, maxStringBytes);
        return;
      }
      out.skip('unsupported');
  }
}

/** Line-protocol value text of a scalar, or why it has none. */
export function scalar(datatype: number, m: Carrier, maxStringBytes: number): string | { readonly skip: SkipReason } {
  switch (datatype) {
    case DataType.Int8:
      return has(m, 'int_value') ? `${(m.int_value! << 24) >> 24}i` : MISSING;
    case DataType.Int16:
      return has(m, 'int_value') ? `${(m.int_value! << 16) >> 16}i` : MISSING;
    case DataType.Int32:
      return has(m, 'int_value') ? `${m.int_value! | 0}i` : MISSING;
    case DataType.UInt8:
    case DataType.UInt16:
    case DataType.UInt32:
      // Some peers carry small unsigned types in long_value: accept both members.
      if (has(m, 'int_value')) return `${m.int_value! >>> 0}u`;
      return has(m, 'long_value') ? `${uint64(m.long_value!)}u` : MISSING;
    case DataType.Int64:
    case DataType.DateTime:
      if (has(m, 'long_value')) return `${int64(m.long_value!)}i`;
      return has(m, 'int_value') ? `${m.int_value! | 0}i` : MISSING;
    case DataType.UInt64:
      if (has(m, 'long_value')) return `${uint64(m.long_value!)}u`;
      return has(m, 'int_value') ? `${m.int_value! >>> 0}u` : MISSING;
    case DataType.Float:
    case DataType.Double: {
      const v = has(m, 'float_value') ? float32Text(m.float_value!) : has(m, 'double_value') ? m.double_value! : undefined;
      if (v === undefined) return MISSING;
      if (typeof v === 'string') return v;
      return Number.isFinite(v) ? String(v) : NOT_FINITE;
    }
    case DataType.Boolean:
      return has(m, 'boolean_value') ? (m.boolean_value ? 'T' : 'F') : MISSING;
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      if (!has(m, 'string_value')) return MISSING;
      return overBytes(m.string_value!, maxStringBytes) ? TOO_LONG : quoteString(m.string_value!.toWellFormed());
    default:
      return UNSUPPORTED;
  }
}

const MISSING = Object.freeze({ skip: 'null' as const });
const NOT_FINITE = Object.freeze({ skip: 'not_finite' as const });
const TOO_LONG = Object.freeze({ skip: 'too_long' as const });
const UNSUPPORTED = Object.freeze({ skip: 'unsupported' as const });

/** The float32 on the wire in the fewest digits that read back as the same float32; `not_finite` for NaN/∞. */
export function float32Text(v: number): string | number {
  if (!Number.isFinite(v)) return v;
  for (let p = 1; p < 10; p++) {
    const n = Number(v.toPrecision(p));
    if (Math.fround(n) === v) return String(n);
  }
  return String(v);
}

/** One field per cell: `name/<row>/<column>`. A cell with no value, or of a type the column does not say, is skipped. */
function dataSetFields(name: string, ds: DataSet, out: FieldSink, maxStringBytes: number): void {
  const { columns, types, rows } = ds;
  for (let r = 0; r < rows.length; r++) {
    const elements = rows[r]!.elements;
    for (let c = 0; c < elements.length && c < columns.length; c++) {
      const text = scalar(types[c] ?? DataType.Unknown, elements[c]!, maxStringBytes);
      if (typeof text === 'string') out.field(`${name}/${r}/${columns[c]!}`, text);
      else out.skip(text.skip);
    }
  }
}

/** A template instance's members as `name/<member>`; a definition (in a BIRTH) carries no values and is skipped. */
function templateFields(name: string, t: Template, out: FieldSink, maxStringBytes: number, depth: number): void {
  if (t.is_definition) {
    out.skip('definition');
    return;
  }
  if (depth >= MAX_TEMPLATE_DEPTH) {
    out.skip('too_deep');
    return;
  }
  for (const member of t.metrics) {
    if (member.is_null) out.skip('null');
    else metricFields(`${name}/${member.name ?? ''}`, member.datatype ?? DataType.Unknown, member, out, maxStringBytes, depth + 1);
  }
}

const ARRAY_WIDTH: Record<number, number> = { 22: 1, 23: 2, 24: 4, 25: 8, 26: 1, 27: 2, 28: 4, 29: 8, 30: 4, 31: 8, 34: 8 };

/** Sparkplug 3.0 arrays, packed little-endian in bytes_value: one field per element, `name/<index>`. */
function arrayFields(name: string, datatype: number, bytes: Uint8Array, out: FieldSink, maxStringBytes: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === DataType.StringArray) {
    // UTF-8 strings, each ended by a NUL.
    let start = 0;
    let i = 0;
    for (let at = 0; at < bytes.length; at++) {
      if (bytes[at] !== 0) continue;
      const s = Buffer.from(bytes.buffer, bytes.byteOffset + start, at - start).toString('utf8');
      if (overBytes(s, maxStringBytes)) out.skip('too_long');
      else out.field(`${name}/${i}`, quoteString(s));
      i++;
      start = at + 1;
    }
    return;
  }
  if (datatype === DataType.BooleanArray) {
    // A uint32 count of booleans, then the bits, most significant first in each byte.
    if (bytes.length < 4) {
      out.skip('unsupported');
      return;
    }
    const count = Math.min(view.getUint32(0, true), (bytes.length - 4) * 8);
    for (let i = 0; i < count; i++) out.field(`${name}/${i}`, (bytes[4 + (i >> 3)]! >> (7 - (i & 7))) & 1 ? 'T' : 'F');
    return;
  }
  const width = ARRAY_WIDTH[datatype];
  if (width === undefined || bytes.length % width !== 0) {
    out.skip('unsupported');
    return;
  }
  for (let i = 0, at = 0; at < bytes.length; i++, at += width) {
    const text = arrayElement(datatype, view, at);
    if (text === undefined) out.skip('not_finite');
    else out.field(`${name}/${i}`, text);
  }
}

/** The element's line-protocol text; undefined for a NaN or infinite float, which line protocol cannot carry. */
function arrayElement(datatype: number, view: DataView, at: number): string | undefined {
  switch (datatype) {
    case DataType.Int8Array:
      return `${view.getInt8(at)}i`;
    case DataType.Int16Array:
      return `${view.getInt16(at, true)}i`;
    case DataType.Int32Array:
      return `${view.getInt32(at, true)}i`;
    case DataType.Int64Array:
    case DataType.DateTimeArray:
      return `${view.getBigInt64(at, true)}i`;
    case DataType.UInt8Array:
      return `${view.getUint8(at)}u`;
    case DataType.UInt16Array:
      return `${view.getUint16(at, true)}u`;
    case DataType.UInt32Array:
      return `${view.getUint32(at, true)}u`;
    case DataType.UInt64Array:
      return `${view.getBigUint64(at, true)}u`;
    case DataType.FloatArray: {
      const v = float32Text(view.getFloat32(at, true));
      return typeof v === 'string' ? v : undefined;
    }
    default: {
      const v = view.getFloat64(at, true);
      return Number.isFinite(v) ? String(v) : undefined;
    }
  }
}

/** The alias of a metric as a Map key: a number, or the decimal text of one beyond 2^53. */
export function aliasKey(alias: Uint64): number | string {
  const a = uint64(alias);
  return typeof a === 'number' ? a : String(a);
}

export { dataTypeName };
