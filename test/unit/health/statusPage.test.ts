import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { MessageExplainer } from '../../../src/explain/MessageExplainer.ts';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { HealthServer, ROUTE_TEST_MAX_BYTES } from '../../../src/health/HealthServer.ts';
import { LATEST_SERIES, latestValues } from '../../../src/health/latestValues.ts';
import { STATUS_PAGE } from '../../../src/health/statusPage.ts';
import { statusReport } from '../../../src/health/statusReport.ts';
import { RecentMessages } from '../../../src/stats/RecentMessages.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

const TOKEN = 's3cret';
const AT = Date.parse('2025-01-15T12:00:00.123Z');

function view(recent: RecentMessages): GatewayView {
  return {
    gatewayId: 'gw',
    version: '1',
    startedAt: Date.now(),
    source: new SourceStats(),
    sinks: [{ stats: new SinkStats('influx', 'influx'), backlog: () => ({ points: 0, bytes: 0, oldestAt: undefined }), dropped: () => 0 }],
    recent,
    spool: () => ({ type: 'memory', entries: 0, bytes: 0, maxBytes: 1, full: false }),
    shuttingDown: () => false,
  };
}

const entry = (lines: string, points = 1) => ({ lines, points, sinks: 1, receivedAt: AT });

describe('status page', () => {
  const recent = new RecentMessages();
  const v = view(recent);
  const explainer = new MessageExplainer(loadConfig({ argv: [], env: { EDGEBRIDGE_GATEWAY_ID: 'gw' } }));
  const server = new HealthServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    view: v,
    metrics: new GatewayMetrics(v),
    logger: memoryLogger().logger,
    tryRoute: (topic, payload, properties) => explainer.explain(topic, payload, AT, properties),
  });
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
  const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url('/route-test'), {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body,
    });

  before(() => server.start());
  after(() => server.stop());

  it('GET /: the page behind the token (Basic: the browser asks), with a CSP that allows only its own script and style', async () => {
    const anonymous = await fetch(url('/'));
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="edgebridge", charset="UTF-8"');
    assert.equal((await fetch(url('/'), { headers: basic('wrong') })).status, 401);
    const page = await fetch(url('/'), { headers: basic(TOKEN) });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.equal(csp, STATUS_PAGE.csp);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
    const html = await page.text();
    // The hashes in the policy are those of the inline script and style: the browser would refuse anything else.
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    assert.ok(csp.includes(`script-src ${hash(script)}`));
    assert.ok(csp.includes(`style-src ${hash(style)}`));
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/, 'device data is only ever text');
    assert.ok(Buffer.byteLength(html) < 16 * 1024, `a few KB: ${Buffer.byteLength(html)} bytes`);
    // The same Basic credentials open /status, as the page's script sends them.
    assert.equal((await fetch(url('/status'), { headers: basic(TOKEN) })).status, 200);
    assert.equal((await fetch(url('/status'))).status, 401);
  });

  it('POST /route-test: the points and Redis writes of a message, through the dry-run code; nothing else', async () => {
    const r = await post(JSON.stringify({ topic: 'sensors/dev1/climate', payload: '{"t":21.5}' }));
    assert.equal(r.status, 200);
    const x = (await r.json()) as { kind: string; writes: { sink: string; lines?: string[]; commands?: string[] }[] };
    assert.equal(x.kind, 'ok');
    assert.deepEqual(x.writes[0], { sink: 'influx', type: 'influx', lines: ['climate,device=dev1,gateway=gw t=21.5 1736942400123000'] });
    assert.match(x.writes[1]!.commands![0]!, /^HSET eb:latest:\{dev1\}:climate t 21\.5/);
    const rejected = (await (await post(JSON.stringify({ topic: 'sensors/d/m', payload: '[1]' }))).json()) as { reason: string };
    assert.equal(rejected.reason, 'not_object');
    assert.equal((await post('{"topic":1}')).status, 400);
    assert.equal((await post('nope')).status, 400);
  });

  it('POST /route-test takes MQTT 5 properties as `edgebridge test` does; a wrong shape is a 400 naming the key', async () => {
    const routes = JSON.stringify([{ topic: 'plant/{device}', measurement: '{$user.kind}', tags: { site: '{$user.site}' } }]);
    const config = loadConfig({
      argv: [],
      env: { EDGEBRIDGE_GATEWAY_ID: 'gw', EDGEBRIDGE_ROUTES: routes, EDGEBRIDGE_REDIS_ENABLED: 'false' },
    });
    const withProps = new MessageExplainer(config);
    const s = new HealthServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      view: v,
      metrics: new GatewayMetrics(v),
      logger: memoryLogger().logger,
      tryRoute: (topic, payload, properties) => withProps.explain(topic, payload, AT, properties),
    });
    await s.start();
    try {
      const send = (body: unknown) =>
        fetch(`http://127.0.0.1:${s.port}/route-test`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const ok = (await (
        await send({ topic: 'plant/d1', payload: '{"t":1}', properties: { userProperties: { kind: 'k', site: ['a', 'b'] } } })
      ).json()) as {
        lines: string[];
      };
      assert.deepEqual(ok.lines, ['k,gateway=gw,site=b t=1 1736942400123000']);
      const missing = (await (await send({ topic: 'plant/d1', payload: '{"t":1}' })).json()) as { reason: string };
      assert.equal(missing.reason, 'missing_property');
      for (const [properties, error] of [
        [[], /^properties: expected/],
        [{ contentType: 1 }, /^properties\.contentType: expected a string/],
        [{ userProperties: { a: 1 } }, /^properties\.userProperties\.a: expected a string or an array of strings/],
        [{ user: {} }, /^properties\.user: unknown/],
      ] as const) {
        const r = await send({ topic: 'plant/d1', payload: '', properties });
        assert.equal(r.status, 400);
        assert.match(((await r.json()) as { error: string }).error, error);
      }
    } finally {
      await s.stop();
    }
  });

  it('POST /route-test refuses: no token 401, not JSON 415, GET 405, a body over the cap 413 (unread, closed)', async () => {
    const body = JSON.stringify({ topic: 't', payload: 'x' });
    assert.equal((await post(body, { authorization: '' })).status, 401);
    assert.equal((await post(body, { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await fetch(url('/route-test'), { headers: { authorization: `Bearer ${TOKEN}` } })).status, 405);
    assert.equal((await post(JSON.stringify({ topic: 't', payload: 'x'.repeat(ROUTE_TEST_MAX_BYTES) }))).status, 413);
    // Chunked, no length announced: cut off once it passes the cap.
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const s = net.connect(server.port, '127.0.0.1', () => {
        s.write(
          `POST /route-test HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        const chunk = 'x'.repeat(16 * 1024);
        for (let i = 0; i < 6; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('error', () => {});
      s.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.equal((await fetch(url('/healthz'))).status, 200);
  });

  it('/status: the last rejections and the latest values, bounded', async () => {
    for (let i = 0; i < 100; i++) {
      recent.observe(
        `sensors/dev${i}/m`,
        Buffer.from('{"v":1}'),
        { kind: 'ok', entry: entry(`m,device=dev${i} v=${i} 1736942400123000`) },
        AT,
      );
      recent.observe(`bad/${i}`, Buffer.from('y'.repeat(500)), { kind: 'rejected', reason: 'bad_json', detail: `d${i}` }, AT);
    }
    const s = statusReport(v);
    assert.equal(s.recent.rejected.length, 10);
    assert.equal(s.recent.rejected[0]!.topic, 'bad/99', 'newest first');
    assert.equal(s.recent.rejected[0]!.payload.length, 200);
    assert.equal(s.recent.rejected[0]!.truncated, true);
    assert.equal(s.recent.rejected[0]!.at, '2025-01-15T12:00:00.123Z');
    assert.equal(s.recent.latest.length, LATEST_SERIES);
    assert.ok(
      s.recent.latest.every((l) => Number(/dev(\d+)/.exec(l.series)![1]) >= 36),
      'the latest 64 entries only',
    );
    const served = (await (await fetch(url('/status'), { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as typeof s;
    assert.equal(served.recent.latest.length, LATEST_SERIES);
  });

  it('latestValues: the newest value per series, tags sorted, integers as numbers', () => {
    const latest = latestValues([
      entry('m,b=2,a=1 x=1,s="old" 1736942400000000'),
      entry('m,a=1,b=2 x=2i,s="new",ok=T 1736942401000000\nn v=1 1736942401000000', 2),
    ]);
    assert.deepEqual(latest, [
      { series: 'm,a=1,b=2', fields: { x: 2, s: 'new', ok: true }, time: '2025-01-15T12:00:01.000Z' },
      { series: 'n', fields: { v: 1 }, time: '2025-01-15T12:00:01.000Z' },
    ]);
  });
});
