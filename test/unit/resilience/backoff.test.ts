import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConstantBackoff } from 'cockatiel';
import { RetryAfterBackoff } from '../../../src/resilience/RetryAfterBackoff.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';

const ctx = (error: unknown) => ({ attempt: 1, signal: new AbortController().signal, result: { error } });

describe('RetryAfterBackoff', () => {
  it('takes the larger of the backoff and Retry-After', () => {
    const b = new RetryAfterBackoff({ initialMs: 0, maxMs: 10_000, inner: new ConstantBackoff(500) });
    assert.equal(b.next(ctx(new Error('x'))).duration, 500);
    const throttled = new SinkError('429', { kind: 'throttled', retryable: true, retryAfterMs: 4000 });
    const first = b.next(ctx(throttled));
    assert.equal(first.duration, 4000);
    assert.equal(first.next(ctx(new Error('y'))).duration, 500);
  });

  it('caps Retry-After at maxMs (retryMaxMs): 23 days asked, maxMs waited', () => {
    const b = new RetryAfterBackoff({ initialMs: 100, maxMs: 30_000, inner: new ConstantBackoff(500) });
    const asked = (ms: number) => new SinkError('429', { kind: 'throttled', retryable: true, retryAfterMs: ms });
    assert.equal(b.next(ctx(asked(2_000_000_000))).duration, 30_000);
    assert.equal(b.next(ctx(asked(Number.POSITIVE_INFINITY))).duration, 30_000);
    assert.equal(b.next(ctx(asked(20_000))).duration, 20_000, 'below the cap it is honoured');
  });

  it('never hands a timer more than 2^31-1 ms, even with a larger retryMaxMs (the timer would fire at once)', () => {
    const b = new RetryAfterBackoff({ initialMs: 100, maxMs: 5_000_000_000 });
    const d = b.next(ctx(new SinkError('429', { kind: 'throttled', retryable: true, retryAfterMs: 3_000_000_000 }))).duration;
    assert.equal(d, 2 ** 31 - 1);
  });
});
