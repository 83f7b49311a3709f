import type { Batch } from '../Batch.ts';
import { BatchCollector } from '../BatchCollector.ts';
import type { ReadyLimits } from '../BatchTrigger.ts';
import type { Backlog, ReadLimits, SpoolCursor } from '../Spool.ts';
import type { Position } from './CursorStore.ts';
import { RecordReader, type HoleTally } from './RecordReader.ts';
import type { SinkMark } from './SinkMark.ts';
import type { SpoolLedger } from './SpoolLedger.ts';

/** Batch.end packs (segment, offset): offsets stay below 2^32, segment ids below 2^21. */
const OFFSET_SPAN = 2 ** 32;
/**
 * File bytes one read may scan (records of this sink and of others): reading and checking them is synchronous, and
 * a catch-up read of 20 000 records held the event loop a median 7.5–14 ms (bench/spool-catchup.ts); 1 MiB, 4–7 ms. A read
 * that reaches it returns the batch so far; the next read goes on from there.
 */
export const FILE_SCAN_BUDGET = 1 << 20;

/**
 * One sink's reader of the disk spool: reads records in order from its marks in the ledger, and commits there.
 * Live traffic is copied from the ledger's window of recent records (no read, no CRC); a reader that has fallen
 * behind reads the files through its own buffer. It never sees the writer: appends reach it as totals and
 * wake-ups in its mark.
 */
export class DiskCursor implements SpoolCursor {
  readonly name: string;
  readonly #index: number;
  readonly #ledger: SpoolLedger;
  readonly #mark: SinkMark;
  readonly #records: RecordReader;

  constructor(ledger: SpoolLedger, sinkIndex: number) {
    this.#ledger = ledger;
    this.#index = sinkIndex;
    this.#mark = ledger.marks[sinkIndex]!;
    this.name = this.#mark.name;
    this.#records = new RecordReader(ledger);
  }

  backlog(): Backlog {
    return this.#mark.backlog();
  }

  ready(limits: ReadyLimits, signal: AbortSignal): Promise<void> {
    return this.#mark.trigger.wait(limits, signal);
  }

  flushNow(): void {
    this.#mark.trigger.wake();
  }

  read(limits: ReadLimits): Batch | undefined {
    const ledger = this.#ledger;
    ledger.writeAppended();
    const mark = this.#mark;
    const collected = new BatchCollector(Math.min(mark.bytes, limits.maxBytes));
    let { segment, offset } = mark.readPos;
    // Keeping up with live traffic: the records are still in memory (no read, no CRC).
    const recent = ledger.recent;
    const bit = mark.bit;
    let n = recent.find(segment, offset);
    if (n >= 0) {
      for (; n < recent.count && collected.hasRoom(limits); n++) {
        segment = recent.segmentOf(n);
        const start = recent.startOf(n);
        offset = recent.nextOf(n);
        if ((recent.sinksOf(n) & bit) !== 0) {
          collected.addBytes(
            recent.ring,
            recent.textStartOf(n),
            recent.textEndOf(n),
            segment * OFFSET_SPAN + start,
            recent.pointsOf(n),
            offset - start,
            recent.receivedAtOf(n),
          );
        }
      }
    }
    const records = this.#records;
    let scanned = 0;
    while (n < 0 && collected.hasRoom(limits) && scanned < FILE_SCAN_BUDGET) {
      const holes: HoleTally = { records: 0, end: undefined };
      const f = records.next(segment, offset, holes);
      mark.lost += holes.records;
      if (f === undefined) {
        // A hole at the writer's end: the read still moves past it (counted once).
        const h = holes.end;
        if (h !== undefined && (h.segment > segment || (h.segment === segment && h.offset > offset))) ({ segment, offset } = h);
        break;
      }
      segment = f.segment.id;
      offset = f.next;
      scanned += f.next - f.start;
      if ((f.sinks & f.segment.bitOf(this.name)) === 0) continue;
      collected.addBytes(
        records.buffer,
        f.textStart,
        f.textEnd,
        f.segment.id * OFFSET_SPAN + f.start,
        f.points,
        f.next - f.start,
        f.receivedAt,
      );
    }
    const readPos = { segment, offset };
    const batch = collected.build(ledger.origin, segment * OFFSET_SPAN + offset);
    if (batch === undefined) {
      mark.readPos = readPos;
      return undefined;
    }
    const nextAt = mark.points > batch.points ? this.#nextAt(readPos, n) : undefined;
    ledger.took(this.#index, batch, readPos, nextAt);
    return batch;
  }

  commit(batch: Batch): void {
    const segment = Math.floor(batch.end / OFFSET_SPAN);
    this.#ledger.committed(this.#index, batch, { segment, offset: batch.end - segment * OFFSET_SPAN });
  }

  dropped(): number {
    return this.#mark.dropped;
  }

  /**
   * When the record after a batch that left a backlog arrived (the age trigger and the backlog figures need it):
   * the next held record for this sink in the recent window (`n`: where the read stopped in it), else the file's.
   */
  #nextAt(p: Position, n: number): number | undefined {
    const recent = this.#ledger.recent;
    if (n >= 0) {
      const bit = this.#mark.bit;
      for (; n < recent.count; n++) if ((recent.sinksOf(n) & bit) !== 0) return recent.receivedAtOf(n);
    }
    return this.#records.firstFor(this.name, p.segment, p.offset);
  }
}
