import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFaultyHttp, startVictoriaMetrics } from '../../harness/index.ts';
import type { FaultyHttpServer, VictoriaMetricsHandle } from '../../harness/index.ts';
import { InfluxSink } from '../../../src/sinks/influx/InfluxSink.ts';
import { SinkError } from '../../../src/sinks/SinkError.ts';
import type { InfluxSinkConfig } from '../../../src/config/Config.ts';
import { resolveTls } from '../../../src/tls/resolveTls.ts';
import { DEFAULT_TLS } from '../../../src/tls/TlsConfig.ts';
import { batchOf as makeBatch, type Batch } from '../../../src/spool/Batch.ts';

function config(url: string, overrides: Partial<InfluxSinkConfig> = {}): InfluxSinkConfig {
  return {
    name: 'influx',
    type: 'influx',
    url,
    token: 'test-token',
    org: 'acme',
    bucket: 'plant',
    gzip: true,
    tls: resolveTls(url, 'url', DEFAULT_TLS, 'sinks.influx.tls'),
    batch: { maxPoints: 5000, maxBytes: 1 << 20, flushIntervalMs: 1000 },
    resilience: { timeoutMs: 1000, retryInitialMs: 100, retryMaxMs: 1000, breakerThreshold: 3, breakerHalfOpenAfterMs: 1000 },
    ...overrides,
  };
}

function batch(lines: string[]): Batch {
  return makeBatch(lines, {
    positions: lines.map((_, i) => i),
    origin: 'test',
    points: lines.length,
    bytes: lines.join('\n').length,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: lines.length,
  });
}

const T = 1_700_000_000_000_000; // µs
const lines = (n: number, m = 'x'): string[] => Array.from({ length: n }, (_, i) => `${m},device=d${i} v=${i} ${T + i}`);
const never = new AbortController().signal;

describe('InfluxSink against an HTTP server that answers what the test scripts', () => {
  let http: FaultyHttpServer;
  let sink: InfluxSink;
  before(async () => {
    http = await startFaultyHttp();
    sink = new InfluxSink({ config: config(http.url) });
    await sink.start();
  });
  after(() => http.close());

  it('posts to /api/v2/write with org, bucket, precision=us, the token, gzip', async () => {
    http.reset();
    const r = await sink.write(batch(lines(100)), never);
    assert.deepEqual(r, { accepted: 100, rejected: 0 });
    const [req] = http.writeRequests();
    assert.equal(req!.query.get('org'), 'acme');
    assert.equal(req!.query.get('bucket'), 'plant');
    assert.equal(req!.query.get('precision'), 'us');
    assert.equal(req!.headers.authorization, 'Token test-token');
    assert.equal(req!.contentEncoding, 'gzip');
    assert.deepEqual(req!.lines, lines(100));
  });

  it('400 and 422: the batch is bisected, the good lines written, only the bad line rejected (dead-lettered)', async () => {
    for (const status of [400, 422]) {
      // Answers like InfluxDB 2 for a body holding a bad line: that status, naming the line.
      const judging = await startFaultyHttp({
        judge: (ls) => {
          const badLine = ls.find((l) => l.includes('MARKER'));
          return badLine === undefined
            ? undefined
            : { status, body: JSON.stringify({ code: 'invalid', message: `unable to parse '${badLine}'` }) };
        },
      });
      const dead: [string, string, boolean][] = [];
      const s = new InfluxSink({ config: config(judging.url), onRejected: (t, why, alone) => dead.push([t, why, alone]) });
      await s.start();
      const ls = lines(1000);
      ls[417] = `x,device=MARKER v="oops" ${T}`;
      const r = await s.write(batch(ls), never);
      assert.equal(r.accepted, 999);
      assert.equal(r.rejected, 1);
      assert.equal(r.unisolated, undefined);
      assert.match(r.reason ?? '', new RegExp(`${status}.*unable to parse`));
      assert.equal(dead.length, 1);
      assert.equal(dead[0]![0], ls[417]);
      assert.match(dead[0]![1], /MARKER/);
      // Every good line reached the server in an accepted request, once.
      const written = judging
        .writeRequests()
        .filter((q) => q.response.status === 204)
        .flatMap((q) => q.lines);
      assert.deepEqual(
        written,
        ls.filter((_, i) => i !== 417),
      );
      assert.ok(judging.writeRequests().length <= 2 + 2 * Math.ceil(Math.log2(1000)), `requests ${judging.writeRequests().length}`);
      await judging.close();
    }
  });

  it('401 and 403 keep the batch (auth), 404 keeps it too', async () => {
    for (const status of [401, 403, 404]) {
      http.reset();
      http.enqueue({ status });
      await assert.rejects(sink.write(batch(lines(2)), never), (e: unknown) => e instanceof SinkError && e.retryable && e.kind === 'auth');
    }
  });

  it('429 and 503 keep the batch and carry Retry-After', async () => {
    http.reset();
    http.enqueue({ status: 429, headers: { 'retry-after': '7' } });
    await assert.rejects(
      sink.write(batch(lines(2)), never),
      (e: unknown) => e instanceof SinkError && e.retryable && e.retryAfterMs === 7000,
    );
    http.enqueue({ status: 503 });
    await assert.rejects(
      sink.write(batch(lines(2)), never),
      (e: unknown) => e instanceof SinkError && e.retryable && e.kind === 'unavailable',
    );
  });

  it('a timeout and a reset connection keep the batch', async () => {
    http.reset();
    http.enqueue({ status: 204, delayMs: 3000 });
    await assert.rejects(sink.write(batch(lines(1)), never), (e: unknown) => e instanceof SinkError && e.retryable);
    http.enqueue({ status: 204, destroy: true });
    await assert.rejects(sink.write(batch(lines(1)), never), (e: unknown) => e instanceof SinkError && e.retryable);
  });

  it('413 splits the batch until the halves fit; a single line still too large is rejected', async () => {
    http.reset();
    // The whole batch (8 lines) and the first half (4) are too large; quarters fit; then one bad single line.
    http.enqueue({ status: 413 }, { status: 413 }, { status: 204 }, { status: 204 }, { status: 204 });
    const r = await sink.write(batch(lines(8)), never);
    assert.deepEqual(r, { accepted: 8, rejected: 0 });
    const sizes = http.writeRequests().map((q) => q.lines.length);
    assert.deepEqual(sizes, [8, 4, 2, 2, 4]);
    http.reset();
    http.enqueue({ status: 413 });
    const one = await sink.write(batch(lines(1)), never);
    assert.equal(one.rejected, 1);
  });

  it('without gzip the body goes as plain text', async () => {
    const plain = new InfluxSink({ config: config(http.url, { gzip: false }) });
    await plain.start();
    http.reset();
    await plain.write(batch(lines(50)), never);
    assert.equal(http.writeRequests()[0]!.contentEncoding, undefined);
  });
});

describe('InfluxSink against VictoriaMetrics', () => {
  let vm: VictoriaMetricsHandle;
  before(async () => {
    vm = await startVictoriaMetrics();
  });
  after(() => vm.destroy());

  it('a gzipped batch of 5000 points lands, values and µs timestamps exact', async () => {
    const sink = new InfluxSink({ config: config(vm.url) });
    await sink.start();
    const ls = Array.from({ length: 5000 }, (_, i) => `bulk,device=d${i % 50} v=${i} ${T + i * 1000}`);
    assert.deepEqual(await sink.write(batch(ls), never), { accepted: 5000, rejected: 0 });
    const series = await vm.waitForSeries('bulk_v', (s) => s.reduce((n, x) => n + x.values.length, 0) === 5000);
    const d7 = series.find((s) => s.metric.device === 'd7')!;
    assert.equal(d7.values[0], 7);
    assert.equal(d7.timestamps[0], (T + 7000) / 1000);
  });
});
