/**
 * A run of entries read by one cursor: the unit a sink writes as one transaction. Holds its own copy of the
 * line protocol, so the spool may free or drop the entries while the batch is in flight or retried.
 */
export interface Batch {
  /** Line protocol chunks, one per entry (an entry may hold several '\n'-separated lines). */
  readonly chunks: readonly string[];
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
  if (chunks.length === 1) chunks = splitLines(chunks[0]!);
  if (chunks.length < 2) return undefined;
  const mid = chunks.length >> 1;
  return [part(batch, chunks.slice(0, mid)), part(batch, chunks.slice(mid))];
}

function part(batch: Batch, chunks: string[]): Batch {
  let points = 0;
  let bytes = 0;
  for (const c of chunks) {
    points += splitLines(c).length;
    bytes += c.length + 1;
  }
  return { chunks, points, bytes, firstReceivedAt: batch.firstReceivedAt, lastReceivedAt: batch.lastReceivedAt, end: batch.end };
}

