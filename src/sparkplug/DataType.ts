/**
 * Sparkplug B data types (Sparkplug 3.0.0, 6.4.16 "Datatypes"): the numbers a metric's `datatype`, a DataSet's
 * `types` and a property's `type` carry. The array types (22–34) are Sparkplug 3.0's, packed little-endian into
 * `bytes_value`.
 */
export const DataType = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const;

export type DataTypeName = keyof typeof DataType;

const NAMES: readonly string[] = Object.entries(DataType).reduce<string[]>((names, [name, n]) => {
  names[n] = name;
  return names;
}, []);

/** `9` → `Float`; an unknown number → `datatype 99`. */
export function dataTypeName(type: number): string {
  return NAMES[type] ?? `datatype ${type}`;
}
