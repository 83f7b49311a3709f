import { entryLines, type Batch } from '../../src/spool/Batch.ts';
import type { Sink, WriteResult } from '../../src/sinks/Sink.ts';
import { SinkError } from '../../src/sinks/SinkError.ts';

export type FakeBehaviour =
  | { readonly mode: 'accept' }
  | { readonly mode: 'down' }
  | { readonly mode: 'reject'; readonly reason: string }
  | { readonly mode: 'throttle'; readonly retryAfterMs: number };

/** A sink whose answers the test sets; it records every attempt. */
export class FakeSink implements Sink {
  readonly name: string;
  readonly type = 'fake';
  behaviour: FakeBehaviour = { mode: 'accept' };
  readonly attempts: { at: number; points: number }[] = [];
  readonly written: string[] = [];
  constructor(name = 'fake') {
    this.name = name;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async write(batch: Batch): Promise<WriteResult> {
    this.attempts.push({ at: Date.now(), points: batch.points });
    const b = this.behaviour;
    switch (b.mode) {
      case 'accept':
        this.written.push(...entryLines(batch));
        return { accepted: batch.points, rejected: 0 };
      case 'reject':
        return { accepted: 0, rejected: batch.points, reason: b.reason };
      case 'down':
        throw new SinkError('connection refused', { kind: 'unavailable', retryable: true });
      case 'throttle':
        throw new SinkError('slow down', { kind: 'throttled', retryable: true, retryAfterMs: b.retryAfterMs, status: 429 });
    }
  }
}
