import type { Batch } from '../Batch.ts';
import { BatchCollector } from '../BatchCollector.ts';
import type { ReadyLimits } from '../BatchTrigger.ts';
import type { Backlog, ReadLimits, SpoolCursor } from '../Spool.ts';
import type { Position } from './CursorStore.ts';
import { RecordReader, type HoleTally } from './RecordReader.ts';
import type { SinkMark } from './SinkMark.ts';
import { RECORD_HEADER_BYTES } from './recordCodec.ts';
import { pendingIndexAt, type SpoolLedger } from './SpoolLedger.ts';

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
 * behind reads the files through its own buffer; one that has caught up with the file goes on into the records
 * appended and not yet written (the ledger's pending burst, at the positions they will have). It never sees the
 * writer: appends reach it as totals and wake-ups in its mark, and their bytes as ledger state.
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
    const mark = this.#mark;
    const collected = new BatchCollector(Math.min(mark.bytes, limits.maxBytes));
    let { segment, offset } = mark.readPos;
    // Keeping up with live traffic: the records are still in memory (no read, no CRC).
    const recent = ledger.recent;
    const bit = mark.bit;
    let n = recent.find(segment, offset);
    /** The read reached the end of what is written (then the pending records come next). */
    let caughtUp = false;
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
      caughtUp = n === recent.count;
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
        caughtUp = true;
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
    // Appended, not yet written (a burst in progress): copied from the ledger's pending records, at the positions
    // the writer will write them to. k: where the read stands in them (-1: it did not get there).
    const pending = ledger.pending;
    let k = -1;
    if (caughtUp && pending.count > 0) {
      const active = ledger.active;
      k = pendingIndexAt(ledger, { segment, offset });
      const base = active.validEnd;
      for (; k >= 0 && k < pending.count && collected.hasRoom(limits); k++) {
        const start = pending.startOf(k);
        const size = pending.sizeOf(k);
        segment = active.id;
        offset = base + start + size;
        pending.seen = true;
        if ((pending.sinksOf(k) & bit) !== 0) {
          collected.addBytes(
            pending.buffer,
            start + RECORD_HEADER_BYTES,
            start + size,
            segment * OFFSET_SPAN + base + start,
            pending.pointsOf(k),
            size,
            pending.receivedAtOf(k),
          );
        }
      }
    }
    const readPos = { segment, offset };
    const batch = collected.build(ledger.origin, segment * OFFSET_SPAN + offset);
    if (batch === undefined) {
      mark.readPos = readPos;
      return undefined;
    }
    const nextAt = mark.points > batch.points ? this.#nextAt(readPos, n, k) : undefined;
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
   * the next one for this sink in the pending records once the read got there (`k`), else the next held in the
   * recent window (`n`: where the read stopped in it, which holds everything written after it) or in the file,
   * else the first pending one.
   */
  #nextAt(p: Position, n: number, k: number): number | undefined {
    const ledger = this.#ledger;
    const bit = this.#mark.bit;
    if (k >= 0) return ledger.pending.firstAt(bit, k);
    const recent = ledger.recent;
    if (n >= 0) {
      for (; n < recent.count; n++) if ((recent.sinksOf(n) & bit) !== 0) return recent.receivedAtOf(n);
    } else {
      const at = this.#records.firstFor(this.name, p.segment, p.offset);
      if (at !== undefined) return at;
    }
    return ledger.pending.firstAt(bit);
  }
}
