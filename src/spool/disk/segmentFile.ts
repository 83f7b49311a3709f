import fs from 'node:fs';
import path from 'node:path';

/**
 * A segment file starts with a header: the magic `EBSPOOL1`, a u32 LE length, then JSON
 * `{ "sinks": [names…], "createdAt": epoch ms }`. The sink names fix what each bit of the records' sink masks
 * means, so a spool written under one configuration is read correctly after sinks were added or reordered.
 */
export const MAGIC = Buffer.from('EBSPOOL1', 'latin1');

export interface SegmentHeader {
  readonly sinks: readonly string[];
  readonly createdAt: number;
}

export function encodeHeader(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(MAGIC.length + 4 + json.length);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  return out;
}

/** Reads the header of an open segment; returns it with the offset of the first record, or an error text. */
export function readHeader(fd: number): { header: SegmentHeader; dataStart: number } | string {
  const head = Buffer.alloc(MAGIC.length + 4);
  if (fs.readSync(fd, head, 0, head.length, 0) < head.length) return 'shorter than a header';
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) return 'bad magic';
  const length = head.readUInt32LE(MAGIC.length);
  if (length > 1 << 20) return `impossible header length ${length}`;
  const json = Buffer.alloc(length);
  if (fs.readSync(fd, json, 0, length, head.length) < length) return 'truncated header';
  try {
    const h = JSON.parse(json.toString('utf8')) as SegmentHeader;
    if (!Array.isArray(h.sinks) || !h.sinks.every((s) => typeof s === 'string')) return 'header without sink names';
    return { header: h, dataStart: head.length + length };
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

export function listSegments(dir: string): { id: number; file: string }[] {
  return fs
    .readdirSync(dir)
    .map((name) => ({ id: segmentId(name), file: path.join(dir, name) }))
    .filter((s): s is { id: number; file: string } => s.id !== undefined)
    .sort((a, b) => a.id - b.id);
}
