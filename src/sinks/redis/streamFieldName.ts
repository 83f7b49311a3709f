/**
 * A stream entry is read as a map (`XRANGE` → name → value): its names must be distinct. It holds `ts`, the
 * point's tags, then its fields, so a field named `ts` or like a tag (a JSON payload's `"device"`) would sit beside
 * the real one and a reader would see the device's value instead. Such a field is written with this marker in
 * front (`field:device`), and so is a field that already starts with it (`field:x` → `field:field:x`), so that
 * two different fields never end up with one name. Every other field keeps its name as it is.
 */
export const FIELD_MARKER = 'field:';

const MARKER_BYTES = Buffer.from(FIELD_MARKER);

/** The name that always starts an entry: the point's time, epoch ms. */
export const TIME_NAME = 'ts';

/**
 * Why a point's tags cannot make an unambiguous entry (a tag key `ts`, or one starting with the marker, which a
 * marked field could meet), or undefined. Only line-protocol devices and route config can name tags so.
 */
export function tagKeysRefusal(tagKeys: readonly string[]): string | undefined {
  for (const k of tagKeys) {
    if (k === TIME_NAME || k.startsWith(FIELD_MARKER)) return `tag key ${JSON.stringify(k)} is reserved in Redis stream entries`;
  }
  return undefined;
}

/** The UTF-8 bytes of the names a field must not take as they are: `ts` and the tag keys. */
export function reservedNames(tagKeys: readonly string[]): Buffer[] {
  return [Buffer.from(TIME_NAME), ...tagKeys.map((k) => Buffer.from(k, 'utf8'))];
}

/** One bit per length of the reserved names (31: longer): most field names are passed on their length alone. */
export function lengthMask(reserved: readonly Buffer[]): number {
  let mask = 0;
  for (const r of reserved) mask |= 1 << Math.min(r.length, 31);
  return mask;
}

/** Whether the field name at `text[start, end)` gets the marker (hot path: bytes, no string). */
export function needsMarker(text: Uint8Array, start: number, end: number, reserved: readonly Buffer[], mask: number): boolean {
  const n = end - start;
  if (n >= MARKER_BYTES.length && text[start] === MARKER_BYTES[0] && equalBytes(text, start, MARKER_BYTES, MARKER_BYTES.length))
    return true;
  if ((mask & (1 << Math.min(n, 31))) === 0) return false;
  for (const r of reserved) if (r.length === n && equalBytes(text, start, r, n)) return true;
  return false;
}

/** The name a field (unescaped) takes in a stream entry whose tags have these keys. */
export function streamFieldName(name: string, tagKeys: readonly string[]): string {
  return name === TIME_NAME || name.startsWith(FIELD_MARKER) || tagKeys.includes(name) ? FIELD_MARKER + name : name;
}

function equalBytes(text: Uint8Array, start: number, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (text[start + i] !== b[i]) return false;
  return true;
}
