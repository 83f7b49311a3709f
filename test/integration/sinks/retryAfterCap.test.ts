import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultyHttp, type FaultyHttpServer } from '../../harness/index.ts';
import { InfluxSink } from '../../../src/sinks/influx/InfluxSink.ts';
import { SinkWorker } from '../../../src/workers/SinkWorker.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import { MemorySpool } from '../../../src/spool/MemorySpool.ts';
import { readiness } from '../../../src/health/readiness.ts';
import { statusReport } from '../../../src/health/statusReport.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { DEFAULT_TLS } from '../../../src/tls/TlsConfig.ts';
import { resolveTls } from '../../../src/tls/resolveTls.ts';
import type { InfluxSinkConfig } from '../../../src/config/Config.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { waitFor } from '../../harness/waitFor.ts';
import { entry } from '../../unit/spool/spoolContract.ts';

const RETRY_MAX_MS = 600;

describe('a 429 with Retry-After: 2000000 (23 days) from a real HTTP server', () => {
  let http: FaultyHttpServer;
  before(async () => (http = await startFaultyHttp()));
  after(() => http.close());

  it('is retried after retryMaxMs, and readiness and /status say "throttled until <ISO>" meanwhile', async () => {
    const config: InfluxSinkConfig = {
      name: 'influx',
      type: 'influx',
      url: http.url,
      token: 't',
      org: 'o',
      bucket: 'b',
      gzip: false,
      tls: resolveTls(http.url, 'url', DEFAULT_TLS, 'sinks.influx.tls'),
      batch: { maxPoints: 10, maxBytes: 1 << 20, flushIntervalMs: 50 },
      resilience: { timeoutMs: 2000, retryInitialMs: 100, retryMaxMs: RETRY_MAX_MS, breakerThreshold: 5, breakerHalfOpenAfterMs: 1000 },
    };
    http.enqueue({ status: 429, headers: { 'retry-after': '2000000' }, body: '{"code":"too many requests"}' });
    const sink = new InfluxSink({ config });
    await sink.start();
    const spool = new MemorySpool({ maxBytes: 1 << 20, overflow: 'dropOldest', sinkCount: 1 });
    const stats = new SinkStats('influx', 'influx');
    const worker = new SinkWorker({
      sink,
      cursor: spool.cursor(0),
      batch: config.batch,
      resilience: config.resilience,
      stats,
      logger: memoryLogger().logger,
    });
    const source = new SourceStats();
    source.connected = true;
    const view: GatewayView = {
      gatewayId: 'gw',
      version: 'test',
      startedAt: Date.now(),
      source,
      sinks: [{ stats, backlog: () => spool.cursor(0).backlog(), dropped: () => 0 }],
      spool: () => spool.stats(),
      shuttingDown: () => false,
    };
    // What readiness and /status said at the moment the retry listener noted the 429: a loaded machine may
    // take longer than the whole 600 ms wait to get back to the test, and the retry's success clears the state.
    const noted: { at: number; until: number; ready: ReturnType<typeof readiness>; status: ReturnType<typeof statusReport> }[] = [];
    let throttledUntil: number | undefined;
    Object.defineProperty(stats, 'throttledUntil', {
      get: () => throttledUntil,
      set: (until: number | undefined) => {
        throttledUntil = until;
        if (until === undefined) return;
        // The listener sets lastError (its `at` is the retry's now) just before.
        const at = stats.lastError!.at;
        noted.push({ at, until, ready: readiness(view, at), status: statusReport(view, at) });
      },
    });
    worker.start();
    try {
      spool.append(entry(3, 0b1, Date.now()));
      const [first] = await http.waitForRequests(1, 10_000);
      await waitFor(() => noted.length > 0, { message: 'the 429 was never noted' });
      const [{ at, until: untilNoted, ready: r, status }] = noted as [(typeof noted)[0]];
      assert.equal(r.ready, false, JSON.stringify(r));
      const line = r.problems.find((p) => p.includes('throttled until'));
      assert.ok(line, JSON.stringify(r.problems));
      const until = Date.parse(/throttled until (\S+)/.exec(line!)![1]!);
      assert.equal(until, untilNoted);
      // The delay is exactly the cap (the backoff never exceeds it, Retry-After raises it to it); the slack is the
      // clock ticking between the listener's two reads of it.
      assert.ok(
        until - at >= RETRY_MAX_MS && until - at <= RETRY_MAX_MS + 50,
        `throttled until ${new Date(until).toISOString()}, noted at ${new Date(at).toISOString()}`,
      );
      assert.equal(status.sinks[0]!.throttledUntil, new Date(until).toISOString());

      // Not 23 days: the bound is the cap plus what a loaded machine adds, so it is generous; the exact delay is
      // checked above.
      const [, second] = await http.waitForRequests(2, RETRY_MAX_MS + 30_000);
      const waited = second!.receivedAt - first!.receivedAt;
      // At least the cap (a timer can fire a millisecond early on the wall clock): Retry-After was honoured.
      assert.ok(waited >= RETRY_MAX_MS - 5, `retried after ${waited} ms`);
      await waitFor(() => stats.pointsWritten === 3, { message: () => `${stats.pointsWritten} points written` });
      assert.equal(stats.throttledUntil, undefined);
      assert.equal(noted.length, 1, 'one 429, one wait');
      assert.equal(readiness(view).ready, true, JSON.stringify(readiness(view)));
      assert.equal(statusReport(view).sinks[0]!.throttledUntil, null);
    } finally {
      await worker.stop(Date.now());
      await sink.stop();
    }
  });
});
