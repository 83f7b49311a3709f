import { crc32 } from 'node:zlib';
import type { Entry } from '../Entry.ts';

/**
 * One spool record on disk:
 *
 *   u32 LE  payload length
 *   u32 LE  CRC-32 of the payload (zlib.crc32)
 *   payload:
 *     u32 LE  sink bitmask (bit i = sink i of the segment header's list)
 *     f64 LE  receivedAt, epoch ms
 *     u32 LE  points
 *     ...     line protocol, UTF-8
 *
 * The length and CRC let recovery tell a complete record from a torn or corrupt one.
 */
export const FRAME_BYTES = 8;
export const PAYLOAD_HEADER_BYTES = 16;
/** Bytes before a record's line protocol: frame and payload header. */
export const RECORD_HEADER_BYTES = FRAME_BYTES + PAYLOAD_HEADER_BYTES;
/** A length above this is garbage, not a record (a payload is at most a few MiB of line protocol). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Bytes `entry` takes on disk, frame included. */
export function encodedRecordBytes(entry: Entry): number {
  return FRAME_BYTES + PAYLOAD_HEADER_BYTES + Buffer.byteLength(entry.lines, 'utf8');
}

/** Encodes `entry` into `buf` at `offset`; `total` is `encodedRecordBytes(entry)` (the caller needed it first). */
export function encodeRecordAt(entry: Entry, buf: Buffer, offset: number, total: number): void {
  const textBytes = total - FRAME_BYTES - PAYLOAD_HEADER_BYTES;
  buf.writeUInt32LE(PAYLOAD_HEADER_BYTES + textBytes, offset);
  buf.writeUInt32LE(entry.sinks >>> 0, offset + 8);
  buf.writeDoubleLE(entry.receivedAt, offset + 12);
  buf.writeUInt32LE(entry.points, offset + 20);
  // The exact size is known: the text goes straight into place.
  buf.write(entry.lines, offset + 24, textBytes, 'utf8');
  buf.writeUInt32LE(crc32(buf.subarray(offset + FRAME_BYTES, offset + total)), offset + 4);
}

/** Encodes into `scratch` when it is big enough, else into a new buffer. */
export function encodeRecord(entry: Entry, scratch: Buffer): Buffer {
  const total = encodedRecordBytes(entry);
  const buf = total <= scratch.length ? scratch : Buffer.allocUnsafe(total);
  encodeRecordAt(entry, buf, 0, total);
  return buf.subarray(0, total);
}

export type DecodeResult =
  | { readonly kind: 'record'; readonly next: number; readonly sinks: number; readonly receivedAt: number; readonly points: number; readonly textStart: number; readonly textEnd: number }
  /** Not enough bytes in the buffer for the whole record (read more, or: a torn tail). */
  | { readonly kind: 'partial'; readonly needed: number }
  /** The bytes are not a valid record: impossible length or CRC mismatch. */
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Decodes the record at `offset` of `buf[0..end)` without copying the text (see textStart/textEnd). */
export function decodeRecord(buf: Buffer, offset: number, end: number): DecodeResult {
  if (end - offset < FRAME_BYTES) return { kind: 'partial', needed: FRAME_BYTES };
  const length = buf.readUInt32LE(offset);
  if (length < PAYLOAD_HEADER_BYTES || length > MAX_PAYLOAD_BYTES) return { kind: 'corrupt', reason: `impossible length ${length}` };
  const next = offset + FRAME_BYTES + length;
  if (next > end) return { kind: 'partial', needed: FRAME_BYTES + length };
  const payloadStart = offset + FRAME_BYTES;
  if (crc32(buf.subarray(payloadStart, next)) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', reason: 'CRC mismatch' };
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
