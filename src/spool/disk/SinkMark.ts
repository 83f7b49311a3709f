import type { Batch } from '../Batch.ts';
import { BatchTrigger, type PendingView } from '../BatchTrigger.ts';
import type { Backlog } from '../Spool.ts';
import type { Position } from './CursorStore.ts';
import type { Segment } from './Segment.ts';

/**
 * receivedAt of this sink's oldest unread record: known, or nothing is waiting. Kept exact as records come and go
 * (an append, a read that learns the next one, a drop that looks it up), so asking for it never reads a file.
 */
export type OldestUnread = { readonly kind: 'none' } | { readonly kind: 'at'; readonly at: number };
export const NONE_WAITING: OldestUnread = { kind: 'none' };

/**
 * One sink's marks in the ledger: where its reader stands (`readPos`), what it committed (checkpointed), the
 * running totals of what it has not read (for batch triggers and backlog figures), the batch in flight, and what it
 * lost. The writer's appends and the reader's reads both change it, always through the ledger; its trigger is the
 * wake-up of the reader waiting for data.
 */
export class SinkMark implements PendingView {
  readonly name: string;
  /** The sink's number in the configuration: its bit in records written by this process is `1 << index`. */
  readonly index: number;
  readonly bit: number;
  readPos: Position = { segment: 0, offset: 0 };
  committed: Position = { segment: 0, offset: 0 };
  /** Appended for this sink and not yet read. */
  points = 0;
  bytes = 0;
  oldest: OldestUnread = NONE_WAITING;
  inflight: Batch | undefined;
  /** Points lost to the overflow policy. */
  dropped = 0;
  /** Records its reader had to skip because they failed their checks (corruption on disk). */
  lost = 0;
  /** Records of segments set aside at start (unreadable header) that this sink had not passed. */
  unreadableLost = 0;
  /** A reload removed the sink: nothing waits for it any more, nothing is appended for it, its checkpoint is left. */
  released = false;
  readonly trigger: BatchTrigger;

  constructor(name: string, index: number, now: () => number) {
    this.name = name;
    this.index = index;
    this.bit = 1 << index;
    this.trigger = new BatchTrigger(this, now);
  }

  pendingPoints(): number {
    return this.points;
  }

  pendingBytes(): number {
    return this.bytes;
  }

  oldestAt(): number | undefined {
    const o = this.oldest;
    return o.kind === 'at' ? o.at : undefined;
  }

  backlog(): Backlog {
    const inflight = this.inflight;
    return {
      points: this.points + (inflight?.points ?? 0),
      bytes: this.bytes + (inflight?.bytes ?? 0),
      oldestAt: inflight?.firstReceivedAt ?? this.oldestAt(),
    };
  }

  /** Points read or not, not yet committed: 0 when everything this sink was given is delivered. */
  waiting(): number {
    return this.points + (this.inflight?.points ?? 0);
  }

  /** True when this sink has committed everything in `segment`. */
  hasPassed(segment: Segment): boolean {
    // Nothing waiting and nothing in flight: whatever the segment holds is not for this sink any more.
    if (this.inflight === undefined && this.points === 0) return true;
    const c = this.committed;
    return c.segment > segment.id || (segment.sealed && c.segment === segment.id && c.offset >= segment.validEnd);
  }

  appended(points: number, size: number, receivedAt: number): void {
    if (this.released) return;
    if (this.points === 0 && this.oldest.kind === 'none') this.oldest = { kind: 'at', at: receivedAt };
    this.points += points;
    this.bytes += size;
    this.trigger.onAppend();
  }

  /**
   * Appended records that could not be written were discarded. They were the newest, so the oldest unread record
   * is still the one known, unless nothing is left.
   */
  unwritten(points: number, size: number): void {
    this.points = Math.max(0, this.points - points);
    this.bytes = Math.max(0, this.bytes - size);
    if (this.points === 0) this.oldest = NONE_WAITING;
  }

  /**
   * A reload removed the sink: what it had not committed (read or not) is counted as dropped, and returned. Its
   * committed position moves to `tail`, so a later start with the sink configured again does not re-send it.
   */
  release(tail: Position): number {
    const dropped = this.waiting();
    this.dropped += dropped;
    this.points = 0;
    this.bytes = 0;
    this.inflight = undefined;
    this.oldest = NONE_WAITING;
    this.readPos = tail;
    this.committed = tail;
    this.released = true;
    this.trigger.wake();
    return dropped;
  }

  /** The reader took `batch` (ending at `readPos`); `next` is when the record after it arrived. */
  took(batch: Batch, readPos: Position, next: OldestUnread): void {
    this.readPos = readPos;
    this.points = Math.max(0, this.points - batch.points);
    this.bytes = Math.max(0, this.bytes - batch.bytes);
    this.oldest = this.points > 0 ? next : NONE_WAITING;
    this.inflight = batch;
  }

  /** The sink is done with `batch`, which ends at `end`. True when the committed position moved. */
  commit(batch: Batch, end: Position): boolean {
    if (this.inflight === batch) this.inflight = undefined;
    const c = this.committed;
    // A drop may already have moved the mark past this batch's segment.
    if (end.segment > c.segment || (end.segment === c.segment && end.offset > c.offset)) {
      this.committed = end;
      return true;
    }
    return false;
  }
}
