import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConstantBackoff } from 'cockatiel';
import { RetryAfterBackoff } from '../../../src/resilience/RetryAfterBackoff.ts';
import { ReconnectSchedule } from '../../../src/source/ReconnectSchedule.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';

const ctx = (error: unknown) => ({ attempt: 1, signal: new AbortController().signal, result: { error } });

describe('RetryAfterBackoff', () => {
  it('takes the larger of the backoff and Retry-After', () => {
    const b = new RetryAfterBackoff({ initialMs: 0, maxMs: 0, inner: new ConstantBackoff(500) });
    assert.equal(b.next(ctx(new Error('x'))).duration, 500);
    const throttled = new SinkError('429', { kind: 'throttled', retryable: true, retryAfterMs: 4000 });
    const first = b.next(ctx(throttled));
    assert.equal(first.duration, 4000);
    assert.equal(first.next(ctx(new Error('y'))).duration, 500);
  });
});

describe('ReconnectSchedule', () => {
  it('grows from about min to max with jitter, and starts over after reset', () => {
    const s = new ReconnectSchedule({ minMs: 1000, maxMs: 30_000 });
    const delays = Array.from({ length: 30 }, () => s.next());
    assert.ok(delays[0]! <= 3000, `first ${delays[0]}`);
    assert.ok(delays.every((d) => d >= 0 && d <= 30_000), delays.join(','));
    assert.ok(Math.max(...delays.slice(10)) > 10_000, 'reaches the upper range');
    assert.ok(new Set(delays).size > 5, 'jittered');
    s.reset();
    assert.ok(s.next() <= 3000);
  });
});
