import { pino } from 'pino';
import { entryLines, type Batch } from '../../../src/spool/Batch.ts';
import { DiskSpool, type DiskSpoolOptions } from '../../../src/spool/disk/DiskSpool.ts';
import type { SpoolCursor } from '../../../src/spool/Spool.ts';
import { int, mulberry32, type Rng } from '../../../scripts/bulk/prng.ts';
import { MemoryFs } from './MemoryFs.ts';

export type CrashAck = 'write' | 'fsync';

/** What happened besides the filesystem's changes, placed in its log: `at` = how many ops preceded it. */
export type WorkloadEvent =
  /** The message of record `seq` was acknowledged (its record written, or on disk under ack=fsync). */
  | { readonly kind: 'ack'; readonly at: number; readonly seq: number }
  /** Sink `sink` committed a batch holding these records: delivered, whatever the disk says later. */
  | { readonly kind: 'commit'; readonly at: number; readonly sink: number; readonly seqs: readonly number[] };

export interface WorkloadRecord {
  readonly lines: string;
  readonly sinks: number;
  readonly points: number;
}

export interface Workload {
  readonly ack: CrashAck;
  readonly fs: MemoryFs;
  readonly events: readonly WorkloadEvent[];
  /** By seq. */
  readonly records: readonly WorkloadRecord[];
  readonly sinks: readonly string[];
}

export const SPOOL_DIR = '/spool';
export const SINKS = ['influx', 'redis', 'archive'] as const;

const SILENT = pino({ level: 'silent' });

/** The spool options of the workload and of every crash state opened after it (small segments: many rolls). */
export function crashSpoolOptions(ack: CrashAck, fs: MemoryFs): DiskSpoolOptions {
  return {
    dir: SPOOL_DIR,
    sinks: SINKS,
    maxBytes: 1 << 24,
    overflow: 'block',
    ack,
    fsyncIntervalMs: 2,
    segmentBytes: 3072,
    checkpointIntervalMs: 1,
    logger: SILENT,
    // Small: readers that fall behind read the files, not only the recent window.
    recent: { maxRecords: 24, maxBytes: 4096 },
    fs: fs.api,
    // One process opens every state: the lock left in a state is its own (taken over), no /proc read per open.
    lock: { startTimeOf: () => undefined },
  };
}

/**
 * The text of record `seq`: its sequence number in every line, so a check can tell exactly what it got; `pad`
 * characters more make some records span sectors.
 */
export function recordLines(seq: number, points: number, pad = 0): string {
  const tag = pad > 0 ? `,pad=${'x'.repeat(pad)}` : '';
  return Array.from({ length: points }, (_, i) => `m,seq=${seq}${tag} v=${i}i ${1_700_000_000_000_000 + seq}`).join('\n');
}

/** The seq of a line written by `recordLines`; undefined for anything else. */
export function seqOf(line: string): number | undefined {
  const m = /^m,seq=(\d+)(?:,pad=x+)? v=\d+i \d+$/.exec(line);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Runs a seeded workload on a recording in-memory filesystem: bursts of appends (flushed, then acknowledged:
 * at once under ack=write, after a group fdatasync under ack=fsync, several bursts sharing one), segment rolls,
 * three sinks reading at their own pace (also in the middle of a burst, from the pending records), batches held in
 * flight and committed later, checkpoints saved in the background, segments deleted once every sink has passed
 * them (retention), background fdatasyncs (ack=write), and a clean close at the end.
 */
export async function runSpoolWorkload(options: {
  seed: number;
  ack: CrashAck;
  messages: number;
  lyingFdatasync?: boolean;
}): Promise<Workload> {
  const rng = mulberry32(options.seed);
  const fs = new MemoryFs(true, { lyingFdatasync: options.lyingFdatasync });
  const events: WorkloadEvent[] = [];
  const records: WorkloadRecord[] = [];
  const spool = new DiskSpool(crashSpoolOptions(options.ack, fs));
  await spool.open();
  const cursors = SINKS.map((_, i) => spool.cursor(i));
  const inflight: (Batch | undefined)[] = SINKS.map(() => undefined);
  // Each sink's pace: how likely it reads on a step (one falls behind, then catches up from the files).
  const pace = SINKS.map(() => 0.2 + rng() * 0.7);
  const syncs: Promise<void>[] = [];

  const step = (sink: number): void => {
    const c = cursors[sink]!;
    const held = inflight[sink];
    if (held !== undefined) {
      if (rng() < 0.6) {
        commit(c, sink, held);
        inflight[sink] = undefined;
      }
      return;
    }
    const batch = c.read({ maxPoints: 1 + int(rng, 12), maxBytes: 1 << 20 });
    if (batch === undefined) return;
    if (rng() < 0.5) commit(c, sink, batch);
    else inflight[sink] = batch;
  };
  const commit = (c: SpoolCursor, sink: number, batch: Batch): void => {
    c.commit(batch);
    const seqs = [...new Set(entryLines(batch).map((l) => seqOf(l.split('\n')[0]!)!))];
    events.push({ kind: 'commit', at: fs.ops.length, sink, seqs });
  };

  let seq = 0;
  while (seq < options.messages) {
    // Mostly short bursts; some long ones, whose one write spans several sectors (tearing inside a record).
    const burst = rng() < 0.15 ? 10 + int(rng, 30) : 1 + int(rng, 8);
    const appended: number[] = [];
    for (let i = 0; i < burst && seq < options.messages; i++) {
      const points = rng() < 0.2 ? 2 : 1;
      const sinks = 1 + int(rng, 7);
      const lines = recordLines(seq, points, int(rng, 4) === 0 ? int(rng, 300) : 0);
      if (!spool.append({ lines, points, sinks, receivedAt: 1_700_000_000_000 + seq })) throw new Error(`append ${seq} refused`);
      records.push({ lines, sinks, points });
      appended.push(seq++);
      // A sink's worker may run between two messages of a burst: it reads the records not yet written.
      if (rng() < 0.15) step(int(rng, SINKS.length));
    }
    if (options.ack === 'write') {
      if (!spool.flush()) throw new Error('flush failed');
      for (const s of appended) events.push({ kind: 'ack', at: fs.ops.length, seq: s });
    } else {
      // ack=fsync: the burst's end writes the records before or after the sync is asked for, or not at all (the
      // group commit's turn writes them, with whatever else was appended, right before its fdatasync).
      const order = int(rng, 3);
      if (order === 0 && !spool.flush()) throw new Error('flush failed');
      syncs.push(
        new Promise<void>((resolve, reject) =>
          spool.sync((error) => {
            if (error) {
              reject(error);
              return;
            }
            for (const s of appended) events.push({ kind: 'ack', at: fs.ops.length, seq: s });
            resolve();
          }),
        ),
      );
      if (order === 1 && !spool.flush()) throw new Error('flush failed');
    }
    for (let s = 0; s < SINKS.length; s++) if (rng() < pace[s]!) step(s);
    // Let the background run: fdatasyncs (group commit, ack=write's interval), checkpoint saves.
    const r = rng();
    if (r < 0.1) await new Promise((resolve) => setTimeout(resolve, 3));
    else if (r < 0.5) await new Promise((resolve) => setImmediate(resolve));
    if (syncs.length > 0 && rng() < 0.6) await Promise.all(syncs.splice(0));
  }
  await Promise.all(syncs.splice(0));
  for (let round = 0; round < 50 && cursors.some((c) => c.backlog().points > 0); round++) {
    for (let s = 0; s < SINKS.length; s++) step(s);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 3));
  await spool.close();
  return { ack: options.ack, fs, events, records, sinks: SINKS };
}

export type { Rng };
