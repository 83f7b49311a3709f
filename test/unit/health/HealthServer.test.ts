import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HealthServer } from '../../../src/health/HealthServer.ts';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

describe('HealthServer', () => {
  const source = new SourceStats();
  const influx = new SinkStats('influx', 'influx');
  const redis = new SinkStats('redis', 'redis');
  let shuttingDown = false;
  let full = false;
  const view: GatewayView = {
    gatewayId: 'gw',
    version: '1.2.3',
    startedAt: Date.now(),
    source,
    sinks: [
      { stats: influx, backlog: () => ({ points: 5, bytes: 300, oldestAt: Date.now() - 5000 }), dropped: () => 7 },
      { stats: redis, backlog: () => ({ points: 0, bytes: 0, oldestAt: undefined }), dropped: () => 0 },
    ],
    spool: () => ({
      type: 'memory',
      entries: 2,
      bytes: 300,
      maxBytes: 1000,
      ...(full ? { full: true, fullReason: 'maxBytes' } : { full: false }),
    }),
    shuttingDown: () => shuttingDown,
  };
  const server = new HealthServer({ host: '127.0.0.1', port: 0, view, metrics: new GatewayMetrics(view), logger: memoryLogger().logger });
  const get = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${path}`, init);

  before(() => server.start());
  after(() => server.stop());

  it('/readyz: 503 naming each problem, 200 once they are gone', async () => {
    source.connected = false;
    source.lastError = 'connect ECONNREFUSED mqtt://u:pw@b:1883';
    influx.breaker = 'open';
    influx.lastError = { message: 'InfluxDB answered 401: unauthorized', kind: 'auth', at: Date.now() };
    full = true;
    let r = await get('/readyz');
    assert.equal(r.status, 503);
    const body = (await r.json()) as { ready: boolean; problems: string[] };
    assert.equal(body.ready, false);
    assert.equal(body.problems.length, 3);
    assert.match(body.problems[0]!, /^mqtt: not connected/);
    assert.ok(!body.problems[0]!.includes('pw@'), 'no credentials');
    assert.equal(body.problems[1], 'sink influx: circuit breaker open: auth: InfluxDB answered 401: unauthorized');
    assert.match(body.problems[2]!, /^spool: full/);
    source.connected = true;
    influx.breaker = 'closed';
    full = false;
    r = await get('/readyz');
    assert.equal(r.status, 200);
  });

  it('/healthz: 200 while running, 503 while shutting down', async () => {
    assert.equal((await get('/healthz')).status, 200);
    shuttingDown = true;
    assert.equal((await get('/healthz')).status, 503);
    assert.equal((await get('/readyz')).status, 503);
    shuttingDown = false;
  });

  it('/metrics: Prometheus text with the stats copied in at scrape time', async () => {
    source.received = 10;
    source.accepted = 7;
    source.unrouted = 1;
    source.reject('bad_json');
    source.reject('bad_json');
    influx.pointsWritten = 42;
    const text = await (await get('/metrics')).text();
    assert.match(text, /^edgebridge_messages_received_total 10$/m);
    assert.match(text, /^edgebridge_messages_decoded_total 7$/m);
    assert.match(text, /^edgebridge_messages_rejected_total\{reason="bad_json"\} 2$/m);
    assert.match(text, /^edgebridge_sink_points_written_total\{sink="influx"\} 42$/m);
    assert.match(text, /^edgebridge_sink_points_dropped_total\{sink="influx"\} 7$/m);
    assert.match(text, /^edgebridge_sink_backlog_points\{sink="influx"\} 5$/m);
    assert.match(text, /^edgebridge_spool_bytes 300$/m);
  });

  it('/status: JSON detail', async () => {
    const s = (await (await get('/status')).json()) as {
      version: string;
      sinks: { name: string; backlog: { points: number; ageSeconds: number } }[];
    };
    assert.equal(s.version, '1.2.3');
    assert.equal(s.sinks[0]!.backlog.points, 5);
    assert.ok(s.sinks[0]!.backlog.ageSeconds >= 4);
  });

  it('other paths 404, other methods 405, request bodies not read (the answer closes the connection)', async () => {
    assert.equal((await get('/nope')).status, 404);
    // Without a route tester (none given here) its endpoint does not exist; the page itself is always there.
    assert.equal((await get('/route-test', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404);
    const head = await get('/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.equal((await get('/status/../etc')).status, 404);
    assert.equal((await get('/metrics', { method: 'DELETE' })).status, 405);
    // A body is refused (413) without being read; raw socket, since fetch would insist on uploading it first.
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const s = net.connect(server.port, '127.0.0.1', () =>
        s.write(`PUT /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 20}\r\n\r\nxx`),
      );
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('error', () => {});
      s.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 405 /);
    assert.match(answer, /connection: close/i);
    assert.equal((await get('/healthz?x=1')).status, 200);
  });

  it('keeps answering after malformed and slow requests', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      s.resume(); // the 400 answer must be read for the close to be seen
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const slow = net.connect(server.port, '127.0.0.1', () => slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    slow.on('error', () => {});
    assert.equal((await get('/healthz')).status, 200);
    slow.destroy();
  });

  it('with a token, /status and /metrics need it; /healthz and /readyz stay open for probes', async () => {
    const locked = new HealthServer({
      host: '127.0.0.1',
      port: 0,
      token: 's3cret-token',
      view,
      metrics: new GatewayMetrics(view),
      logger: memoryLogger().logger,
    });
    await locked.start();
    try {
      const at = (p: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${locked.port}${p}`, { headers });
      assert.equal((await at('/status')).status, 401);
      assert.equal((await at('/metrics', { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await at('/metrics', { authorization: 's3cret-token' })).status, 401, 'the Bearer scheme is required');
      assert.equal((await at('/metrics', { authorization: 'Bearer s3cret-token' })).status, 200);
      for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
        assert.equal(
          (await at('/metrics', { authorization: `${scheme} s3cret-token` })).status,
          200,
          `${scheme}: the scheme is case-insensitive`,
        );
      }
      assert.equal((await at('/metrics', { authorization: 'bearer wrong' })).status, 401);
      assert.equal((await at('/status', { authorization: 'Bearer s3cret-token' })).status, 200);
      assert.equal((await at('/healthz')).status, 200);
      assert.notEqual((await at('/readyz')).status, 401);
    } finally {
      await locked.stop();
    }
  });
});
