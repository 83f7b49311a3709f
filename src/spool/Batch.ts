import { splitLines } from '../lineprotocol/splitLines.ts';

/**
 * A run of entries read by one cursor: the unit a sink writes as one transaction. Holds its own copy of the
 * line protocol, so the spool may free or drop the entries while the batch is in flight or retried.
 *
 * The text is bytes, not strings: the spool holds records as the bytes it wrote, the InfluxDB sink sends them
 * as they are, and only the Redis sink decodes them (once per batch). No string per entry lives on the JS heap
 * from the moment a message is spooled until its batch is written, which is what kept the garbage collector
 * busy (a line string per message, held for a second, promoted to the old generation and marked there).
 */
export interface Batch {
  /** The entries' line protocol, UTF-8, back to back, each followed by '\n' (an entry may hold several lines). */
  readonly text: Buffer;
  /** Where each entry's text ends in `text`, its '\n' excluded; the next entry starts one byte later. */
  readonly ends: readonly number[];
  /**
   * Where each entry sits in the spool: increasing within one `origin`, so a sink can recognise an entry it
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

/** Where entry `i` of `batch` starts in `batch.text`. */
export function entryStart(batch: Pick<Batch, 'ends'>, i: number): number {
  return i === 0 ? 0 : batch.ends[i - 1]! + 1;
}

/** The line protocol of every entry, as strings (dry runs, splitting, tests; sinks read `text`). */
export function entryLines(batch: Pick<Batch, 'text' | 'ends'>): string[] {
  const out: string[] = [];
  for (let i = 0; i < batch.ends.length; i++) out.push(batch.text.toString('utf8', entryStart(batch, i), batch.ends[i]));
  return out;
}

/** The fields of a Batch besides its text, for `batchOf`. */
export type BatchInfo = Omit<Batch, 'text' | 'ends' | 'points' | 'bytes'> & { readonly points?: number; readonly bytes?: number };

/**
 * A batch of these entries' line protocol (dry runs, splitting, tests). `points` defaults to the number of lines
 * and `bytes` to the text's size.
 */
export function batchOf(chunks: readonly string[], info: BatchInfo): Batch {
  const text = Buffer.from(chunks.length === 0 ? '' : `${chunks.join('\n')}\n`, 'utf8');
  const ends: number[] = [];
  let at = -1;
  for (const c of chunks) ends.push((at += Buffer.byteLength(c, 'utf8') + 1));
  let points = 0;
  for (const c of chunks) points += splitLines(c).length;
  return { ...info, text, ends, points: info.points ?? points, bytes: info.bytes ?? text.length };
}

/** Splits a batch in two halves of its entries (for HTTP 413); a one-entry batch splits by lines. */
export function splitBatch(batch: Batch): [Batch, Batch] | undefined {
  let chunks = entryLines(batch);
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
  const { origin, firstReceivedAt, lastReceivedAt, end } = batch;
  return batchOf(chunks, { positions, origin, firstReceivedAt, lastReceivedAt, end });
}
