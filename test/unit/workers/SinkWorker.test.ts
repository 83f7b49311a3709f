import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySpool } from '../../../src/spool/MemorySpool.ts';
import { SinkWorker } from '../../../src/workers/SinkWorker.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import type { ResilienceConfig, BatchConfig } from '../../../src/config/Config.ts';
import { FakeSink } from '../../fakes/FakeSink.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { entry } from '../spool/spoolContract.ts';

const resilience: ResilienceConfig = {
  timeoutMs: 10_000,
  retryInitialMs: 1000,
  retryMaxMs: 5000,
  breakerThreshold: 3,
  breakerHalfOpenAfterMs: 30_000,
};
const batch: BatchConfig = { maxPoints: 5000, maxBytes: 1 << 20, flushIntervalMs: 1000 };

function setup(overrides: Partial<ResilienceConfig> = {}, batchOverrides: Partial<BatchConfig> = {}) {
  const spool = new MemorySpool({ maxBytes: 1 << 20, overflow: 'dropOldest', sinkCount: 1 });
  const sink = new FakeSink();
  const stats = new SinkStats('fake', 'fake');
  const { logger, lines } = memoryLogger();
  const worker = new SinkWorker({
    sink,
    cursor: spool.cursor(0),
    batch: { ...batch, ...batchOverrides },
    resilience: { ...resilience, ...overrides },
    stats,
    logger,
  });
  return { spool, sink, stats, worker, lines };
}

/** Advances the fake clock in small steps, letting promises settle between them. */
async function advance(ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    mock.timers.tick(step);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
}

describe('SinkWorker with a fake clock', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_700_000_000_000 }));
  afterEach(() => mock.timers.reset());

  it('closes a batch on time and writes it', async () => {
    const { spool, sink, stats, worker } = setup();
    worker.start();
    spool.append(entry(2, 0b1, Date.now()));
    await advance(500);
    assert.equal(sink.attempts.length, 0, 'the batch is not due yet');
    await advance(600);
    assert.equal(sink.attempts.length, 1);
    assert.equal(stats.pointsWritten, 2);
    await worker.stop(Date.now());
  });

  it('closes a batch on count without waiting for the interval', async () => {
    const { spool, sink, worker } = setup({}, { maxPoints: 3 });
    worker.start();
    for (let i = 0; i < 3; i++) spool.append(entry(1, 0b1, Date.now()));
    await advance(50);
    assert.equal(sink.attempts.length, 1);
    assert.equal(sink.attempts[0]!.points, 3);
    await worker.stop(Date.now());
  });

  it('opens the breaker after 3 consecutive failures, fails fast while open, half-opens after 30 s, closes on success', async () => {
    const { spool, sink, stats, worker, lines } = setup();
    sink.behaviour = { mode: 'down' };
    worker.start();
    spool.append(entry(1, 0b1, Date.now()));
    await advance(1000 + 20_000);
    assert.equal(stats.breaker, 'open');
    const callsWhenOpened = sink.attempts.length;
    assert.equal(callsWhenOpened, 3, 'exactly the threshold reached the server');
    const openedAt = sink.attempts[2]!.at;

    await advance(openedAt + 29_000 - Date.now());
    assert.equal(sink.attempts.length, 3, 'no call reaches the server while open');

    // After 30 s one trial call goes through (half-open); it fails, so the breaker opens again.
    await advance(openedAt + 30_000 + 5_500 - Date.now());
    assert.equal(sink.attempts.length, 4);
    assert.equal(stats.breaker, 'open');

    sink.behaviour = { mode: 'accept' };
    await advance(36_000);
    assert.equal(stats.breaker, 'closed');
    assert.equal(stats.pointsWritten, 1, 'the kept batch landed');
    assert.ok(stats.pointsRetried >= 3);
    const transitions = lines().filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('circuit breaker'));
    assert.deepEqual(
      transitions.map((l) => l.to),
      ['open', 'half-open', 'open', 'half-open', 'closed'],
    );
    await worker.stop(Date.now());
  });

  it('drains a backlog in batches up to 4× larger, then returns to the live size', async () => {
    const { spool, sink, worker } = setup({}, { maxPoints: 100 });
    for (let i = 0; i < 1000; i++) spool.append(entry(1, 0b1, Date.now()));
    worker.start();
    await advance(100);
    assert.deepEqual(
      sink.attempts.map((a) => a.points),
      [400, 400, 100, 100],
      'catch-up batches while more than two live batches wait',
    );
    await worker.stop(Date.now());
  });

  it('rejected batches are counted and never retried', async () => {
    const { spool, sink, stats, worker } = setup();
    sink.behaviour = { mode: 'reject', reason: 'bad field type' };
    worker.start();
    spool.append(entry(3, 0b1, Date.now()));
    await advance(10_000);
    assert.equal(sink.attempts.length, 1);
    assert.equal(stats.pointsRejected, 3);
    assert.equal(stats.pointsWritten, 0);
    assert.equal(spool.cursor(0).backlog().points, 0, 'the cursor moved past it');
    await worker.stop(Date.now());
  });

  it('honours Retry-After when it asks for more than the backoff', async () => {
    const { spool, sink, worker } = setup({ breakerThreshold: 100, retryMaxMs: 10_000 });
    sink.behaviour = { mode: 'throttle', retryAfterMs: 7000 };
    worker.start();
    spool.append(entry(1, 0b1, Date.now()));
    await advance(1000 + 20_000);
    const gaps = sink.attempts.slice(1).map((a, i) => a.at - sink.attempts[i]!.at);
    assert.ok(gaps.length >= 2);
    for (const g of gaps) assert.ok(g >= 7000, `gap ${g} ms honours Retry-After`);
    const stopped = worker.stop(Date.now());
    await advance(100);
    await stopped;
  });

  it('caps Retry-After at retryMaxMs and records until when the sink is throttled', async () => {
    const { spool, sink, stats, worker } = setup({ breakerThreshold: 100 });
    sink.behaviour = { mode: 'throttle', retryAfterMs: 2_000_000_000 };
    worker.start();
    spool.append(entry(1, 0b1, Date.now()));
    await advance(1000 + 12_000);
    const gaps = sink.attempts.slice(1).map((a, i) => a.at - sink.attempts[i]!.at);
    assert.ok(gaps.length >= 2, `attempts ${sink.attempts.length}`);
    for (const g of gaps) assert.ok(g <= 5000 + 50, `gap ${g} ms is at most retryMaxMs`);
    assert.ok(stats.throttledUntil !== undefined && stats.throttledUntil > Date.now() && stats.throttledUntil <= Date.now() + 5000);
    sink.behaviour = { mode: 'accept' };
    await advance(6000);
    assert.equal(stats.pointsWritten, 1);
    assert.equal(stats.throttledUntil, undefined);
    const stopped = worker.stop(Date.now());
    await advance(100);
    await stopped;
  });

  it('stop() drains what is queued before the deadline', async () => {
    const { spool, sink, stats, worker } = setup();
    worker.start();
    for (let i = 0; i < 10; i++) spool.append(entry(1, 0b1, Date.now()));
    const stopped = worker.stop(Date.now() + 5000);
    await advance(100);
    await stopped;
    assert.equal(sink.attempts.length, 1);
    assert.equal(stats.pointsWritten, 10);
    assert.equal(stats.pointsUnflushedAtStop, 0);
  });

  it('stop() gives up at the deadline when the sink is down and reports what is left', async () => {
    const { spool, sink, stats, worker } = setup();
    sink.behaviour = { mode: 'down' };
    worker.start();
    for (let i = 0; i < 4; i++) spool.append(entry(1, 0b1, Date.now()));
    const stopped = worker.stop(Date.now() + 3000);
    await advance(3500);
    await stopped;
    assert.equal(stats.pointsWritten, 0);
    assert.equal(stats.pointsUnflushedAtStop, 4);
  });

  it('reconfigure: new batch limits from the next batch on', async () => {
    const { spool, sink, worker } = setup({}, { maxPoints: 100 });
    worker.start();
    worker.reconfigure({ ...batch, maxPoints: 2 }, resilience);
    // Three points: below the catch-up threshold (2 × maxPoints), so batches of the new live size.
    for (let i = 0; i < 3; i++) spool.append(entry(1, 0b1, Date.now()));
    await advance(1100);
    assert.deepEqual(
      sink.attempts.map((a) => a.points),
      [2, 1],
    );
    await worker.stop(Date.now());
  });

  it('reconfigure during an outage: the kept batch goes on under the new policy, written once when the sink is back', async () => {
    const { spool, sink, stats, worker, lines } = setup();
    sink.behaviour = { mode: 'down' };
    worker.start();
    spool.append(entry(1, 0b1, Date.now()));
    await advance(1000 + 20_000);
    assert.equal(stats.breaker, 'open', 'open, half-opening only after 30 s');
    const before = sink.attempts.length;
    worker.reconfigure(batch, { ...resilience, breakerHalfOpenAfterMs: 1000, retryInitialMs: 100, retryMaxMs: 200 });
    assert.equal(stats.breaker, 'closed', 'a fresh breaker');
    assert.ok(lines().some((l) => l.msg === 'circuit breaker closed (resilience settings reloaded)'));
    await advance(2000);
    assert.ok(sink.attempts.length > before + 2, `the new, shorter backoff retries at once: ${sink.attempts.length - before}`);
    sink.behaviour = { mode: 'accept' };
    await advance(3000);
    assert.equal(sink.written.length, 1, 'the batch landed, once');
    assert.equal(stats.pointsWritten, 1);
    await worker.stop(Date.now());
  });

  it('reconfigure while an attempt runs: the attempt is not cut off, the batch is not sent twice', async () => {
    const { spool, sink, stats, worker } = setup();
    let release: (() => void) | undefined;
    const write = sink.write.bind(sink);
    sink.write = async (b) => {
      await new Promise<void>((r) => (release = r));
      return write(b);
    };
    worker.start();
    spool.append(entry(3, 0b1, Date.now()));
    await advance(1100);
    assert.ok(release, 'the attempt is running');
    worker.reconfigure(batch, { ...resilience, retryMaxMs: 2000 });
    await advance(200);
    release!();
    await advance(2000);
    assert.equal(sink.attempts.length, 1);
    assert.equal(sink.written.length, 1);
    assert.equal(stats.pointsWritten, 3);
    await worker.stop(Date.now());
  });
});
