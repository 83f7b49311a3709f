/**
 * A run of entries read by one cursor: the unit a sink writes as one transaction. Holds its own copy of the
 * line protocol, so the spool may free or drop the entries while the batch is in flight or retried.
 */
export interface Batch {
  /** Line protocol chunks, one per entry (an entry may hold several '\n'-separated lines). */
  readonly chunks: readonly string[];
  /**
   * Where each chunk sits in the spool: increasing within one `origin`, so a sink can recognise a chunk it
   * already applied when a batch is sent again after a crash (the Redis streams use it to skip duplicates).
   */
  readonly positions: readonly number[];
  /** Identifies the spool the positions belong to (a random id made when the spool was created). */
  readonly origin: string;
  readonly points: number;
  readonly bytes: number;
  readonly firstReceivedAt: number;
  readonly lastReceivedAt: number;
  /** Cursor position after this batch; opaque to sinks. */
  readonly end: number;
}

import { splitLines } from '../pipeline/lineProtocol.ts';

/** Splits a batch in two halves of its chunks (for HTTP 413); a one-chunk batch splits by lines. */
export function splitBatch(batch: Batch): [Batch, Batch] | undefined {
  let chunks = batch.chunks;
  let positions = batch.positions;
  if (chunks.length === 1) {
    // Lines of one entry share its position: a position marks an entry, applied whole or not at all.
    chunks = splitLines(chunks[0]!);
    positions = chunks.map(() => batch.positions[0]!);
  }
  if (chunks.length < 2) return undefined;
  const mid = chunks.length >> 1;
  return [part(batch, chunks.slice(0, mid), positions.slice(0, mid)), part(batch, chunks.slice(mid), positions.slice(mid))];
}

function part(batch: Batch, chunks: string[], positions: readonly number[]): Batch {
  let points = 0;
  let bytes = 0;
  for (const c of chunks) {
    points += splitLines(c).length;
    bytes += c.length + 1;
  }
  return { chunks, positions, origin: batch.origin, points, bytes, firstReceivedAt: batch.firstReceivedAt, lastReceivedAt: batch.lastReceivedAt, end: batch.end };
}

