import { crc32 } from './crc32.ts';
import type { Entry } from '../Entry.ts';

/**
 * One spool record on disk (format 2):
 *
 *   u32 LE  sync marker 0xFF5BEBFE (bytes FE EB 5B FF: 0xFE and 0xFF never occur in UTF-8 text)
 *   u32 LE  CRC-32 (zlib's; see crc32.ts) of everything after it: the length and the payload
 *   u32 LE  payload length
 *   payload:
 *     u32 LE  sink bitmask (bit i = sink i of the segment header's list)
 *     f64 LE  receivedAt, epoch ms
 *     u32 LE  points
 *     ...     line protocol, UTF-8
 *
 * The CRC covers the length, so a flipped bit there is seen as corruption, not as a torn tail. After a bad record
 * the reader searches for the next sync marker whose record passes its CRC (`findNextRecord`): corruption costs
 * the bad records only. Format 1 (no marker, CRC of the payload only) is still read: see `decodeRecordV1`.
 */
export const SYNC_MARKER = 0xff5bebfe;
export const SYNC_BYTES = Buffer.from([0xfe, 0xeb, 0x5b, 0xff]);
export const FRAME_BYTES = 12;
export const PAYLOAD_HEADER_BYTES = 16;
/** Bytes before a record's line protocol: frame and payload header. */
export const RECORD_HEADER_BYTES = FRAME_BYTES + PAYLOAD_HEADER_BYTES;
/** A length above this is garbage, not a record (a payload is at most a few MiB of line protocol). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Bytes `entry` takes on disk, frame included. */
export function encodedRecordBytes(entry: Entry): number {
  return RECORD_HEADER_BYTES + Buffer.byteLength(entry.lines, 'utf8');
}

/** Encodes `entry` into `buf` at `offset`; `total` is `encodedRecordBytes(entry)` (the caller needed it first). */
export function encodeRecordAt(entry: Entry, buf: Buffer, offset: number, total: number): void {
  const textBytes = total - RECORD_HEADER_BYTES;
  buf.writeUInt32LE(SYNC_MARKER, offset);
  buf.writeUInt32LE(PAYLOAD_HEADER_BYTES + textBytes, offset + 8);
  buf.writeUInt32LE(entry.sinks >>> 0, offset + 12);
  buf.writeDoubleLE(entry.receivedAt, offset + 16);
  buf.writeUInt32LE(entry.points, offset + 24);
  // The exact size is known: the text goes straight into place.
  buf.write(entry.lines, offset + RECORD_HEADER_BYTES, textBytes, 'utf8');
  buf.writeUInt32LE(crc32(buf, offset + 8, offset + total), offset + 4);
}

/** Encodes into `scratch` when it is big enough, else into a new buffer. */
export function encodeRecord(entry: Entry, scratch: Buffer): Buffer {
  const total = encodedRecordBytes(entry);
  const buf = total <= scratch.length ? scratch : Buffer.allocUnsafe(total);
  encodeRecordAt(entry, buf, 0, total);
  return buf.subarray(0, total);
}

export type DecodeResult =
  | {
      readonly kind: 'record';
      readonly next: number;
      readonly sinks: number;
      readonly receivedAt: number;
      readonly points: number;
      readonly textStart: number;
      readonly textEnd: number;
    }
  /** Not enough bytes in the buffer for the whole record (read more, or: a torn tail). */
  | { readonly kind: 'partial'; readonly needed: number }
  /** The bytes are not a valid record: no sync marker, impossible length or CRC mismatch. */
  | { readonly kind: 'corrupt'; readonly reason: string };

export type RecordDecoder = (buf: Buffer, offset: number, end: number) => DecodeResult;

/** Decodes the record at `offset` of `buf[0..end)` without copying the text (see textStart/textEnd). */
export function decodeRecord(buf: Buffer, offset: number, end: number): DecodeResult {
  if (end - offset < FRAME_BYTES)
    return end - offset >= 4 && buf.readUInt32LE(offset) !== SYNC_MARKER ? NO_MARKER : { kind: 'partial', needed: FRAME_BYTES };
  if (buf.readUInt32LE(offset) !== SYNC_MARKER) return NO_MARKER;
  const length = buf.readUInt32LE(offset + 8);
  if (length < PAYLOAD_HEADER_BYTES || length > MAX_PAYLOAD_BYTES) return { kind: 'corrupt', reason: `impossible length ${length}` };
  const next = offset + FRAME_BYTES + length;
  if (next > end) return { kind: 'partial', needed: FRAME_BYTES + length };
  if (crc32(buf, offset + 8, next) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', reason: 'CRC mismatch' };
  return recordAt(buf, offset + FRAME_BYTES, next);
}

/** The decoded record whose payload runs from `payloadStart` to `next` (both formats share the payload). */
function recordAt(buf: Buffer, payloadStart: number, next: number): DecodeResult {
  return {
    kind: 'record',
    next,
    sinks: buf.readUInt32LE(payloadStart),
    receivedAt: buf.readDoubleLE(payloadStart + 4),
    points: buf.readUInt32LE(payloadStart + 12),
    textStart: payloadStart + PAYLOAD_HEADER_BYTES,
    textEnd: next,
  };
}

const NO_MARKER: DecodeResult = { kind: 'corrupt', reason: 'no sync marker' };

/** Format 1 (edgebridge before the sync marker): u32 length, u32 CRC of the payload, payload. Read-only. */
export const V1_FRAME_BYTES = 8;
export function decodeRecordV1(buf: Buffer, offset: number, end: number): DecodeResult {
  if (end - offset < V1_FRAME_BYTES) return { kind: 'partial', needed: V1_FRAME_BYTES };
  const length = buf.readUInt32LE(offset);
  if (length < PAYLOAD_HEADER_BYTES || length > MAX_PAYLOAD_BYTES) return { kind: 'corrupt', reason: `impossible length ${length}` };
  const next = offset + V1_FRAME_BYTES + length;
  if (next > end) return { kind: 'partial', needed: V1_FRAME_BYTES + length };
  const payloadStart = offset + V1_FRAME_BYTES;
  if (crc32(buf, payloadStart, next) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', reason: 'CRC mismatch' };
  return recordAt(buf, payloadStart, next);
}

/** Test helper and upgrade tests: a record as format 1 wrote it. */
export function encodeRecordV1(entry: Entry): Buffer {
  const text = Buffer.from(entry.lines, 'utf8');
  const buf = Buffer.allocUnsafe(V1_FRAME_BYTES + PAYLOAD_HEADER_BYTES + text.length);
  buf.writeUInt32LE(PAYLOAD_HEADER_BYTES + text.length, 0);
  buf.writeUInt32LE(entry.sinks >>> 0, 8);
  buf.writeDoubleLE(entry.receivedAt, 12);
  buf.writeUInt32LE(entry.points, 20);
  text.copy(buf, 24);
  buf.writeUInt32LE(crc32(buf, 8, buf.length), 4);
  return buf;
}
