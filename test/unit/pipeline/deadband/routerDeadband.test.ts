import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../../../src/config/Config.ts';
import { DeadbandStats } from '../../../../src/pipeline/deadband/DeadbandStats.ts';
import type { RouteResult } from '../../../../src/pipeline/RouteResult.ts';
import { Router } from '../../../../src/pipeline/Router.ts';
import type { DeadbandConfig } from '../../../../src/route/Route.ts';
import { parseRoutes } from '../../../../src/route/parseRoutes.ts';
import { parseLine } from '../../../../src/lineprotocol/parseLine.ts';

const T0 = 1732240000000; // ms
const INFLUX = 0b01;
const REDIS = 0b10;

function router(
  deadband: Partial<DeadbandConfig> & Record<string, unknown>,
  extra: Partial<RouteConfig> = {},
  stats = new DeadbandStats(),
) {
  const routes = parseRoutes([{ topic: 'sensors/{device}/{measurement}', ...extra, deadband }]);
  return new Router({
    routes,
    sinkNames: ['influx', 'redis'],
    gatewayId: 'gw1',
    gatewayTag: false,
    maxPayloadBytes: 4096,
    deadbandStats: stats,
  });
}

/** Sends `{...fields, ts}` at second `s`. */
function send(r: Router, s: number, fields: Record<string, unknown>, device = 'd1'): RouteResult {
  return r.route(`sensors/${device}/climate`, Buffer.from(JSON.stringify({ ...fields, ts: T0 + s * 1000 })), T0 + s * 1000);
}

const us = (s: number) => String((T0 + s * 1000) * 1000);

/** What each sink receives: mask → lines. */
function bySink(result: RouteResult): Record<string, string> {
  const out: Record<string, string> = {};
  if (result.kind === 'rejected' || result.kind === 'unrouted') assert.fail(JSON.stringify(result));
  if (result.kind === 'suppressed') return out;
  for (const e of [result.entry, result.also]) {
    if (e === undefined) continue;
    if (e.sinks & INFLUX) out.influx = e.lines;
    if (e.sinks & REDIS) out.redis = e.lines;
  }
  return out;
}

describe('Router with a deadband', () => {
  it('thins the deadband’s sinks only: the other sinks get every point (Redis latest values stay exact)', () => {
    const stats = new DeadbandStats();
    const r = router({ absolute: 0.5, sinks: ['influx'] }, {}, stats);
    assert.deepEqual(bySink(send(r, 0, { t: 20 })), {
      influx: `climate,device=d1 t=20 ${us(0)}`,
      redis: `climate,device=d1 t=20 ${us(0)}`,
    });
    const held = send(r, 1, { t: 20.3 });
    assert.deepEqual(bySink(held), { redis: `climate,device=d1 t=20.3 ${us(1)}` });
    assert.equal(held.kind === 'ok' && held.suppressed, 1);
    assert.deepEqual(bySink(send(r, 2, { t: 21 })), {
      influx: `climate,device=d1 t=21 ${us(2)}`,
      redis: `climate,device=d1 t=21 ${us(2)}`,
    });
    assert.deepEqual(stats.counters('sensors/{device}/{measurement}').suppressed, new Map([['influx', 1]]));
  });

  it('nothing held back: one entry for every sink, the decoder’s lines as they are', () => {
    const r = router({ absolute: 0.5, sinks: ['influx'] });
    const result = send(r, 0, { t: 20 });
    assert.ok(result.kind === 'ok');
    assert.equal(result.also, undefined);
    assert.equal(result.entry.sinks, INFLUX | REDIS);
  });

  it('decides per field: a line keeps its changed fields, and is dropped when none is left', () => {
    const r = router({ absolute: 0.5 }); // every sink of the route
    send(r, 0, { t: 20, h: 40 });
    assert.deepEqual(bySink(send(r, 1, { t: 20.1, h: 45 })), {
      influx: `climate,device=d1 h=45 ${us(1)}`,
      redis: `climate,device=d1 h=45 ${us(1)}`,
    });
    const all = send(r, 2, { t: 20.2, h: 45 });
    assert.deepEqual(all, { kind: 'suppressed', suppressed: 2 });
  });

  it('keeps series apart: each device has its own memory', () => {
    const r = router({ absolute: 0.5 });
    send(r, 0, { t: 20 }, 'a');
    assert.equal(send(r, 1, { t: 20 }, 'b').kind, 'ok');
    assert.equal(send(r, 2, { t: 20 }, 'a').kind, 'suppressed');
  });

  it('per-field rules: a band of its own, or false for a field written every time', () => {
    const r = router({ absolute: 0.5, fields: { h: { absolute: 5 }, count: false } });
    send(r, 0, { t: 20, h: 40, count: 1 });
    assert.deepEqual(bySink(send(r, 1, { t: 21, h: 44, count: 1 })).influx, `climate,device=d1 count=1,t=21 ${us(1)}`);
  });

  it('writePrevious: the last held-back values come first, with their own time, fields of one time on one line', () => {
    const r = router({ absolute: 0.5, writePrevious: true, sinks: ['influx'] });
    send(r, 0, { t: 20, h: 40 });
    send(r, 1, { t: 20.2, h: 40 });
    assert.deepEqual(bySink(send(r, 2, { t: 25, h: 50 })), {
      influx: `climate,device=d1 h=40,t=20.2 ${us(1)}\nclimate,device=d1 h=50,t=25 ${us(2)}`,
      redis: `climate,device=d1 h=50,t=25 ${us(2)}`,
    });
  });

  it('heartbeat: an unchanged value is written again after maxIntervalMs (point time)', () => {
    const r = router({ absolute: 0.5, maxIntervalMs: 60_000 });
    send(r, 0, { t: 20 });
    assert.equal(send(r, 59, { t: 20 }).kind, 'suppressed');
    assert.deepEqual(bySink(send(r, 60, { t: 20 })).influx, `climate,device=d1 t=20 ${us(60)}`);
  });

  it('strings and booleans: exact repeats only, whatever the band', () => {
    const r = router({ absolute: 1000 });
    send(r, 0, { state: 'on', ok: true });
    assert.equal(send(r, 1, { state: 'on', ok: true }).kind, 'suppressed');
    assert.deepEqual(bySink(send(r, 2, { state: 'off', ok: true })).influx, `climate,device=d1 state="off" ${us(2)}`);
    assert.deepEqual(bySink(send(r, 3, { state: 'off', ok: false })).influx, `climate,device=d1 ok=F ${us(3)}`);
  });

  it('string values with commas, spaces, quotes and newlines are cut and written back intact', () => {
    const r = router({ absolute: 1 });
    const text = 'a, b="c"\nd\\';
    const first = bySink(send(r, 0, { note: text, t: 1 })).influx!;
    send(r, 1, { note: text, t: 1 });
    assert.equal(bySink(send(r, 2, { note: text, t: 5 })).influx, `climate,device=d1 t=5 ${us(2)}`);
    // As the decoder wrote it (newlines become `\n`, see docs/data-layout.md), and still one point.
    assert.ok(parseLine(first).ok, first);
    assert.equal(send(r, 3, { note: 'x', t: 5 }).kind, 'ok');
    assert.ok(first.startsWith('climate,device=d1 note="a, b=\\"c\\"'), first);
  });

  it('the state is bounded: beyond capacity the least recently used series is forgotten (written again), counted', () => {
    const stats = new DeadbandStats();
    const r = router({ absolute: 0.5, capacity: 2 }, {}, stats);
    send(r, 0, { t: 20 }, 'a');
    send(r, 0, { t: 20 }, 'b');
    send(r, 0, { t: 20 }, 'c'); // a forgotten
    assert.equal(send(r, 1, { t: 20 }, 'a').kind, 'ok', 'a forgotten series is written as a first value');
    const c = stats.counters('sensors/{device}/{measurement}');
    assert.equal(c.evictions, 2);
    assert.equal(c.size(), 2);
  });

  it('routes without a deadband are untouched', () => {
    const routes = parseRoutes([{ topic: 'sensors/{device}/{measurement}' }]);
    const r = new Router({ routes, sinkNames: ['influx', 'redis'], gatewayId: 'gw1', gatewayTag: false, maxPayloadBytes: 4096 });
    send(r, 0, { t: 20 });
    assert.equal(bySink(send(r, 1, { t: 20 })).influx, `climate,device=d1 t=20 ${us(1)}`);
  });
});
