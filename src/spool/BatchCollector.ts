import type { Batch } from './Batch.ts';

/** Gathers the entries one cursor read into a Batch; shared by the memory and the disk cursor. */
export class BatchCollector {
  readonly chunks: string[] = [];
  readonly positions: number[] = [];
  points = 0;
  bytes = 0;
  #first = 0;
  #last = 0;

  add(lines: string, position: number, points: number, bytes: number, receivedAt: number): void {
    if (this.chunks.length === 0) this.#first = receivedAt;
    this.#last = receivedAt;
    this.chunks.push(lines);
    this.positions.push(position);
    this.points += points;
    this.bytes += bytes;
  }

  /** Whether another entry may join under these limits (the first always may). */
  hasRoom(limits: { readonly maxPoints: number; readonly maxBytes: number }): boolean {
    return this.points < limits.maxPoints && this.bytes < limits.maxBytes;
  }

  /** The batch, or undefined when nothing was added. */
  build(origin: string, end: number): Batch | undefined {
    if (this.chunks.length === 0) return undefined;
    return {
      chunks: this.chunks,
      positions: this.positions,
      origin,
      points: this.points,
      bytes: this.bytes,
      firstReceivedAt: this.#first,
      lastReceivedAt: this.#last,
      end,
    };
  }
}
