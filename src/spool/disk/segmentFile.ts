import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { SpoolFs } from './SpoolFs.ts';

/**
 * A segment file starts with a header. Format 2: the magic `EBSPOOL2`, a u32 LE length, a u32 LE CRC-32 of the
 * JSON, then the JSON `{ "sinks": [names…], "createdAt": epoch ms }`. The sink names fix what each bit of the
 * records' sink masks means, so a spool written under one configuration is read correctly after sinks were added
 * or reordered; the CRC makes a changed byte that still parses as JSON (a sink name altered) a detected error
 * instead of records silently read for the wrong sink. Format 1 (`EBSPOOL1`, no CRC) is still read.
 */
export const MAGIC = Buffer.from('EBSPOOL2', 'latin1');
export const MAGIC_V1 = Buffer.from('EBSPOOL1', 'latin1');
export const FORMAT_VERSION = 2;

export interface SegmentHeader {
  readonly sinks: readonly string[];
  readonly createdAt: number;
}

export interface ReadHeader {
  readonly header: SegmentHeader;
  readonly dataStart: number;
  /** 1: written before the sync marker (records decoded with `decodeRecordV1`); 2: current. */
  readonly version: 1 | 2;
}

export function encodeHeader(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(MAGIC.length + 8 + json.length);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  out.writeUInt32LE(crc32(json), MAGIC.length + 4);
  json.copy(out, MAGIC.length + 8);
  return out;
}

/** Test helper and upgrade tests: a header as format 1 wrote it. */
export function encodeHeaderV1(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(MAGIC_V1.length + 4 + json.length);
  MAGIC_V1.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC_V1.length);
  json.copy(out, MAGIC_V1.length + 4);
  return out;
}

/** Reads the header of an open segment; returns it with the offset of the first record, or an error text. */
export function readHeader(fs: SpoolFs, fd: number): ReadHeader | string {
  const head = Buffer.alloc(MAGIC.length + 8);
  const got = fs.readSync(fd, head, 0, head.length, 0);
  if (got < MAGIC_V1.length + 4) return 'shorter than a header';
  const magic = head.subarray(0, MAGIC.length);
  const version = magic.equals(MAGIC) ? 2 : magic.equals(MAGIC_V1) ? 1 : 0;
  if (version === 0) return 'bad magic';
  if (version === 2 && got < head.length) return 'shorter than a header';
  const length = head.readUInt32LE(MAGIC.length);
  if (length > 1 << 20) return `impossible header length ${length}`;
  const jsonAt = version === 2 ? MAGIC.length + 8 : MAGIC_V1.length + 4;
  const json = Buffer.alloc(length);
  if (fs.readSync(fd, json, 0, length, jsonAt) < length) return 'truncated header';
  if (version === 2 && crc32(json) !== head.readUInt32LE(MAGIC.length + 4)) return 'header CRC mismatch';
  try {
    const h = JSON.parse(json.toString('utf8')) as SegmentHeader;
    if (!Array.isArray(h.sinks) || !h.sinks.every((s) => typeof s === 'string')) return 'header without sink names';
    return { header: h, dataStart: jsonAt + length, version };
  } catch {
    return 'header is not JSON';
  }
}

/** `00000000000000000042.seg`: fixed width, so names sort like numbers. */
export function segmentName(id: number): string {
  return `${String(id).padStart(20, '0')}.seg`;
}

export function segmentId(name: string): number | undefined {
  const m = /^(\d{20})\.seg$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function listSegments(fs: SpoolFs, dir: string): { id: number; file: string }[] {
  return fs
    .readdirSync(dir)
    .map((name) => ({ id: segmentId(name), file: path.join(dir, name) }))
    .filter((s): s is { id: number; file: string } => s.id !== undefined)
    .sort((a, b) => a.id - b.id);
}
