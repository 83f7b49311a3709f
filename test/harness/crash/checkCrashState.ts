import path from 'node:path';
import { entryLines } from '../../../src/spool/Batch.ts';
import { DiskSpool } from '../../../src/spool/disk/DiskSpool.ts';
import { decodeRecord, SYNC_BYTES } from '../../../src/spool/disk/recordCodec.ts';
import { readHeader } from '../../../src/spool/disk/segmentFile.ts';
import type { DiskSpoolStats } from '../../../src/spool/Spool.ts';
import type { CrashState } from './crashStates.ts';
import { MemoryFs } from './MemoryFs.ts';
import { crashSpoolOptions, recordLines, seqOf, SPOOL_DIR, type Workload } from './spoolWorkload.ts';

/** The invariants checked on every crash state (names as the report counts them). */
export const INVARIANTS = [
  'opens: no throw, and opens again after a clean close (no crash loop)',
  'ack=fsync: every acknowledged record is delivered or readable by every sink it is addressed to',
  'ack=write: every record acknowledged before the last fdatasync ahead of the cut (older than the fsync window) is delivered or readable',
  'no corrupt, foreign or misaddressed record reaches a sink; each sink reads in order, once',
  'each backlog equals what its sink then reads',
  'cursors never point past the data: a record appended after recovery reaches every sink',
  'what the cut damaged is counted: exactly the torn bytes, corruption only where there is some',
] as const;

export interface StateVerdict {
  readonly violations: string[];
  /** Acknowledged records the state lost within what the ack mode allows (ack=write, not yet synced). */
  readonly lostAllowed: number;
  readonly damaged: boolean;
}

/** Before the cut: what was acknowledged, and what each sink had committed. */
export function historyAt(w: Workload, at: number): { acked: Set<number>; delivered: Set<number>[] } {
  const acked = new Set<number>();
  const delivered = w.sinks.map(() => new Set<number>());
  for (const e of w.events) {
    if (e.at > at) continue;
    if (e.kind === 'ack') acked.add(e.seq);
    else for (const s of e.seqs) delivered[e.sink]!.add(s);
  }
  return { acked, delivered };
}

/**
 * ack=write's promise: a record acknowledged before an fdatasync that ran before the cut is on disk (the background
 * fdatasync of the active segment every fsyncIntervalMs, and the one that seals a segment, cover every record
 * written before them); only what was acknowledged since the last one may be lost. `syncs`: op indexes of fdatasyncs.
 */
function olderThanWindow(ackAt: number, at: number, syncs: readonly number[]): boolean {
  for (const j of syncs) if (j >= ackAt && j < at) return true;
  return false;
}

/**
 * Opens a spool on the crash state (a fresh in-memory filesystem holding exactly its files), reads every sink to
 * the end, appends one more record, closes, opens again; and says which invariants failed.
 */
export async function checkCrashState(w: Workload, state: CrashState): Promise<StateVerdict> {
  const violations: string[] = [];
  const v = (n: number, detail: string): void => {
    violations.push(`[${n}] ${INVARIANTS[n - 1]}: ${detail}`);
  };
  const damage = damageIn(state.files);
  const fs = MemoryFs.holding(dirsOf(state.files), state.files);
  const { acked, delivered } = historyAt(w, state.at);
  const ackAt = new Map<number, number>();
  for (const e of w.events) if (e.kind === 'ack') ackAt.set(e.seq, e.at);
  const syncs: number[] = [];
  w.fs.ops.forEach((op, i) => {
    if (op.kind === 'fdatasync') syncs.push(i);
  });
  let lostAllowed = 0;

  let spool: DiskSpool;
  try {
    spool = new DiskSpool(crashSpoolOptions(w.ack, fs));
    await spool.open();
  } catch (error) {
    v(1, String(error));
    return { violations, lostAllowed, damaged: damage.torn > 0 || damage.corrupt.length > 0 };
  }
  const read = w.sinks.map(() => new Set<number>());
  try {
    for (let s = 0; s < w.sinks.length; s++) {
      const c = spool.cursor(s);
      const backlog = c.backlog().points;
      let points = 0;
      let last = -1;
      for (let b = c.read({ maxPoints: 7, maxBytes: 1 << 20 }); b !== undefined; b = c.read({ maxPoints: 7, maxBytes: 1 << 20 })) {
        points += b.points;
        for (const text of entryLines(b)) {
          const seq = seqOf(text.split('\n')[0]!);
          const rec = seq === undefined ? undefined : w.records[seq];
          if (seq === undefined || rec === undefined || text !== rec.lines)
            v(4, `sink ${w.sinks[s]} got ${JSON.stringify(text.slice(0, 80))}`);
          else if ((rec.sinks & (1 << s)) === 0) v(4, `sink ${w.sinks[s]} got record ${seq}, addressed to ${rec.sinks.toString(2)}`);
          else if (seq <= last) v(4, `sink ${w.sinks[s]} got record ${seq} after ${last}`);
          else {
            read[s]!.add(seq);
            last = seq;
          }
        }
        c.commit(b);
      }
      if (backlog !== points) v(5, `sink ${w.sinks[s]}: backlog ${backlog} points, read ${points}`);
    }
    for (const seq of acked) {
      const rec = w.records[seq]!;
      for (let s = 0; s < w.sinks.length; s++) {
        if ((rec.sinks & (1 << s)) === 0 || delivered[s]!.has(seq) || read[s]!.has(seq)) continue;
        if (w.ack === 'fsync') v(2, `record ${seq} for ${w.sinks[s]} lost`);
        else if (olderThanWindow(ackAt.get(seq)!, state.at, syncs))
          v(3, `record ${seq} for ${w.sinks[s]} lost although an fdatasync ran after its ack`);
        else lostAllowed++;
      }
    }
    const stats = spool.stats() as DiskSpoolStats;
    if (damage.corrupt.length > 0 && stats.corruptSkipped === 0) v(7, `corruption not counted: ${damage.corrupt.join('; ')}`);
    if (damage.corrupt.length === 0 && stats.corruptSkipped > 0) v(7, `${stats.corruptSkipped} corrupt counted, none there`);
    if (damage.corrupt.length === 0 && stats.tornBytesRecovered !== damage.torn)
      v(7, `${stats.tornBytesRecovered} torn bytes counted, ${damage.torn} torn`);

    const sentinel = w.records.length;
    const lines = recordLines(sentinel, 1);
    if (!spool.append({ lines, points: 1, sinks: 0b111, receivedAt: 1 }) || !spool.flush()) v(6, 'append after recovery refused');
    for (let s = 0; s < w.sinks.length; s++) {
      const c = spool.cursor(s);
      const b = c.read({ maxPoints: 100, maxBytes: 1 << 20 });
      const got = b === undefined ? [] : entryLines(b);
      if (got.length !== 1 || got[0] !== lines) v(6, `sink ${w.sinks[s]} read ${JSON.stringify(got).slice(0, 120)} after the new record`);
      if (b !== undefined) c.commit(b);
    }
    await spool.close();
  } catch (error) {
    v(1, `while reading: ${error instanceof Error ? error.stack : String(error)}`);
    return { violations, lostAllowed, damaged: damage.torn > 0 || damage.corrupt.length > 0 };
  }
  try {
    const again = new DiskSpool(crashSpoolOptions(w.ack, fs));
    await again.open();
    for (let s = 0; s < w.sinks.length; s++) {
      const b = again.cursor(s).read({ maxPoints: 100, maxBytes: 1 << 20 });
      if (b !== undefined) v(1, `reopened: sink ${w.sinks[s]} reads ${b.points} points again after committing everything`);
    }
    await again.close();
  } catch (error) {
    v(1, `second open: ${String(error)}`);
  }
  return { violations, lostAllowed, damaged: damage.torn > 0 || damage.corrupt.length > 0 };
}

function dirsOf(files: Map<string, Buffer>): string[] {
  return [SPOOL_DIR, path.join(SPOOL_DIR, 'segments'), path.join(SPOOL_DIR, 'cursors'), ...[...files.keys()].map((f) => path.dirname(f))];
}

/**
 * Damage a power cut left in the segment files, found independently of the spool's recovery: `torn`, the newest
 * segment's tail after its last valid record with no valid record after it (or, in a newest segment that holds no
 * record, a header that does not parse), which recovery cuts; `corrupt`, bad bytes anywhere else, or followed by a
 * valid record, or a bad header of a segment with records: a hole or a segment set aside.
 */
function damageIn(files: Map<string, Buffer>): { torn: number; corrupt: string[] } {
  const segments = [...files.keys()].filter((f) => path.dirname(f) === path.join(SPOOL_DIR, 'segments') && f.endsWith('.seg')).sort();
  let torn = 0;
  const corrupt: string[] = [];
  segments.forEach((name, i) => {
    const data = files.get(name)!;
    const newest = i === segments.length - 1;
    const head = readHeader(bufferFs(data), 0);
    if (typeof head === 'string') {
      if (newest && nextRecord(data, 0) === undefined) torn += data.length;
      else corrupt.push(`${path.basename(name)}: ${head}`);
      return;
    }
    let at = head.dataStart;
    while (at < data.length) {
      const r = decodeRecord(data, at, data.length);
      if (r.kind === 'record') {
        at = r.next;
        continue;
      }
      if (newest && nextRecord(data, at + 1) === undefined) torn += data.length - at;
      else corrupt.push(`${path.basename(name)}: bad bytes at ${at} (${r.kind})`);
      break;
    }
  });
  return { torn, corrupt };
}

/** The offset of the next record from `from` on whose sync marker, length and CRC check out. */
function nextRecord(data: Buffer, from: number): number | undefined {
  for (let k = data.indexOf(SYNC_BYTES, from); k >= 0; k = data.indexOf(SYNC_BYTES, k + 1))
    if (decodeRecord(data, k, data.length).kind === 'record') return k;
  return undefined;
}

/** readHeader reads through a SpoolFs: one that reads `data`. */
function bufferFs(data: Buffer): Parameters<typeof readHeader>[0] {
  return {
    readSync: (_fd: number, buf: Buffer, off: number, len: number, pos: number) =>
      pos >= data.length ? 0 : data.copy(buf, off, pos, Math.min(data.length, pos + len)),
  } as unknown as Parameters<typeof readHeader>[0];
}
