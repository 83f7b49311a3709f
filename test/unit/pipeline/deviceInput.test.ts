import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ROUTE, parseRoutes } from '../../../src/route/parseRoutes.ts';
import type { RouteConfig } from '../../../src/config/Config.ts';
import { splitLines } from '../../../src/lineprotocol/splitLines.ts';
import { DEFAULT_LIMITS, type PointLimits } from '../../../src/pipeline/PointLimits.ts';
import { Router } from '../../../src/pipeline/Router.ts';
import type { RouteResult } from '../../../src/pipeline/RouteResult.ts';
import { threadCpuMs } from '../../harness/threadCpuMs.ts';

/** Issue 12, "what a device can do": items 1, 3 (newlines), 5 (reading lines as InfluxDB) and the per-point limits. */

const RECEIVED = 1732240000000;

function router(limits: Partial<PointLimits> = {}, maxPayloadBytes = 65536): Router {
  const routes: RouteConfig[] = [
    {
      ...DEFAULT_ROUTE,
      topic: 'lp/{device}',
      format: 'line',
      measurement: '',
      tags: { device: '{device}' },
      timeField: '',
      timeUnit: 'ns',
    },
    { ...DEFAULT_ROUTE, topic: 'flat/{device}/{measurement}', flatten: true },
    DEFAULT_ROUTE,
  ];
  return new Router({
    routes: parseRoutes(routes),
    sinkNames: ['influx', 'redis'],
    gatewayId: 'gw1',
    gatewayTag: true,
    maxPayloadBytes,
    limits: { ...DEFAULT_LIMITS, ...limits },
  });
}

function send(r: Router, topic: string, payload: string | object): RouteResult {
  return r.route(topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), RECEIVED);
}

function lines(result: RouteResult): string {
  if (result.kind !== 'ok') assert.fail(`expected ok, got ${JSON.stringify(result)}`);
  return result.entry.lines;
}

function reason(result: RouteResult): string {
  if (result.kind !== 'rejected') assert.fail(`expected a rejection, got ${JSON.stringify(result).slice(0, 300)}`);
  return result.reason;
}

describe('device input (issue 12)', () => {
  it('item 1: an integer with leading zeros or more than 20 characters, in range, is written canonically; out of range is bad_line, never a throw', () => {
    const r = router();
    assert.equal(lines(send(r, 'lp/d1', 'm v=000000000000000000001u 5')), 'm,device=d1,gateway=gw1 v=1u 0');
    assert.equal(
      lines(send(r, 'lp/d1', 'm v=00018446744073709551615u,w=-0009223372036854775808i,z=-0i 5000')),
      'm,device=d1,gateway=gw1 v=18446744073709551615u,w=-9223372036854775808i,z=0i 5',
    );
    for (const bad of [
      'm v=18446744073709551616u',
      'm v=000018446744073709551616u',
      'm v=9223372036854775808i',
      'm v=-9223372036854775809i',
      'm v=-1u',
    ]) {
      assert.equal(reason(send(r, 'lp/d1', bad)), 'bad_line', bad);
    }
  });

  it('item 3: a string value with newlines is written without a raw newline; the forged point does not appear', () => {
    const r = router();
    const out = lines(send(r, 'sensors/d1/m', { s: 'x\ninj2_evil,device=victim,gateway=adv3 value=42 1000000000000\n', t: 7 }));
    assert.ok(!out.includes('\n') && !out.includes('\r'), out);
    assert.equal(splitLines(out).length, 1);
    assert.ok(out.startsWith('m,device=d1,gateway=gw1 s="x\\ninj2_evil'), out);
    // A line payload's string with a raw newline inside its quotes (valid for InfluxDB) comes out the same way.
    assert.equal(lines(send(r, 'lp/d1', 'm s="a\nb\r\nc" 1000')), 'm,device=d1,gateway=gw1 s="a\\nb\\r\\nc" 1');
  });

  it('item 3: names with a newline or another control character are bad_name (JSON keys, topic levels, line names)', () => {
    const r = router();
    assert.equal(reason(send(r, 'sensors/d1/m', { 'a\nb': 1 })), 'bad_name');
    assert.equal(reason(send(r, 'sensors/d1/m', { 'a\u0001': 1 })), 'bad_name');
    assert.equal(reason(send(r, 'sensors/d\n1/m', { a: 1 })), 'bad_name');
    assert.equal(reason(send(r, 'sensors/d1/m\r', { a: 1 })), 'bad_name');
    assert.equal(reason(send(r, 'lp/d1', 'm,t=a\\\nb v=1')), 'bad_name'); // an escaped newline: InfluxDB reads it into the tag
  });

  it('item 5: lines InfluxDB accepts are read as it reads them; duplicate tags refused; a leading tab skipped', () => {
    const r = router();
    // The issue's `cpu,regions=east\\  value=1.0` (tag value `east\ `) was written as `regions=east\\ value=1`,
    // which InfluxDB misreads; it is refused now (see below), and an even run is written so that it reads back.
    assert.equal(reason(send(r, 'lp/d1', 'cpu,regions=east\\\\  value=1.0 1000')), 'bad_name');
    assert.equal(lines(send(r, 'lp/d1', 'm,t=a\\\\\\ b v=1 1000')), 'm,device=d1,gateway=gw1,t=a\\\\\\ b v=1 1');
    assert.equal(reason(send(r, 'lp/d1', 'cpu,host=a,host=b value=1')), 'bad_line');
    assert.equal(lines(send(r, 'lp/d1', '\tcpu value=1 1000')), 'cpu,device=d1,gateway=gw1 value=1 1');
    // Read as InfluxDB does (tag value `two\ words`), but refused for writing: a backslash before an escaped space
    // reads differently to InfluxDB's key scanner and its line splitter.
    assert.equal(reason(send(r, 'lp/d1', 'cpu,host=two\\\\ words value=42')), 'bad_name');
    // A JSON key ending in backslashes (odd or even run) is refused: the delimiter after it would be escaped.
    assert.equal(reason(send(r, 'sensors/d1/m', { 'a\\\\': 1 })), 'bad_name');
    assert.equal(reason(send(r, 'sensors/d1/m', { 'a\\': 1 })), 'bad_name');
  });

  it('limits: fields per point, name, string and topic sizes are counted rejections', () => {
    const r = router();
    const many = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
    assert.equal(lines(send(r, 'sensors/p1/ok', many(1000))).split(',').length, 2 + 1000);
    assert.equal(reason(send(r, 'sensors/p1/poison', many(4100))), 'too_many_fields');
    assert.equal(reason(send(r, 'flat/p1/poison', { a: many(600), b: many(600) })), 'too_many_fields');
    const lp = `m ${Array.from({ length: 1001 }, (_, i) => `f${i}=1`).join(',')}`;
    assert.equal(reason(send(r, 'lp/d1', lp)), 'too_many_fields');
    assert.equal(reason(send(r, 'sensors/d1/m', { ['k'.repeat(513)]: 1 })), 'too_long');
    assert.ok(send(r, 'sensors/d1/m', { ['k'.repeat(512)]: 1 }).kind === 'ok');
    assert.equal(reason(send(r, 'sensors/d1/m', { s: 'é'.repeat(8193) })), 'too_long'); // 16 386 bytes
    assert.ok(send(r, 'sensors/d1/m', { s: 'é'.repeat(8192) }).kind === 'ok');
    assert.equal(reason(send(r, 'lp/d1', `m s="${'x'.repeat(16385)}"`)), 'too_long');
    assert.equal(reason(send(r, 'lp/d1', `${'m'.repeat(513)} v=1`)), 'too_long');
    assert.equal(reason(send(r, `sensors/${'d'.repeat(1100)}/m`, { a: 1 })), 'too_long');
    const limited = router({ maxFields: 2, maxTopicBytes: 12 });
    assert.equal(reason(send(limited, 'sensors/d/m', { a: 1, b: 2, c: 3 })), 'too_many_fields');
    assert.ok(send(limited, 'sensors/d/m', { a: 1, b: 2 }).kind === 'ok');
    assert.equal(reason(send(limited, 'sensors/dd/mm', { a: 1 })), 'too_long');
  });

  it('no per-message cost that grows faster than linearly: 100 000 fields (limits raised) in JSON and line payloads', () => {
    const r = router({ maxFields: 1_000_000 }, 64 * 1024 * 1024);
    // CPU time of this thread, not the wall clock (which also counts waiting for a core on a loaded machine).
    const time = (payload: string, topic: string): number => {
      const start = threadCpuMs();
      const result = send(r, topic, payload);
      assert.ok(result.kind === 'ok', JSON.stringify(result).slice(0, 200));
      return threadCpuMs() - start;
    };
    const json = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${(i * 7919) % n}`, i])));
    const line = (n: number) => `m ${Array.from({ length: n }, (_, i) => `f${(i * 7919) % n}=${i}`).join(',')}`;
    time(json(10_000), 'sensors/d/m'); // warm up
    time(line(10_000), 'lp/d');
    const j10 = Math.min(time(json(10_000), 'sensors/d/m'), time(json(10_000), 'sensors/d/m'));
    // Minimum of several runs: one run can meet a GC pause of the whole test process on a busy machine.
    const j100 = Math.min(time(json(100_000), 'sensors/d/m'), time(json(100_000), 'sensors/d/m'), time(json(100_000), 'sensors/d/m'));
    const l10 = Math.min(time(line(10_000), 'lp/d'), time(line(10_000), 'lp/d'));
    const l100 = Math.min(time(line(100_000), 'lp/d'), time(line(100_000), 'lp/d'), time(line(100_000), 'lp/d'));
    // Linear (n log n for the sort) would be ~10–17× (V8's own JSON.parse of such objects grows ~20×); quadratic
    // 100×. Generous for a shared 2-core machine.
    assert.ok(j100 < 60 * j10 + 100, `json: 10k fields ${j10.toFixed(1)} ms, 100k ${j100.toFixed(1)} ms`);
    assert.ok(l100 < 60 * l10 + 100, `line: 10k fields ${l10.toFixed(1)} ms, 100k ${l100.toFixed(1)} ms`);
    // With the default limit the walk stops at the 1001st field.
    const d = router({}, 64 * 1024 * 1024);
    const payload = json(100_000);
    const start = threadCpuMs();
    assert.equal(reason(send(d, 'sensors/d/m', payload)), 'too_many_fields');
    const spent = threadCpuMs() - start;
    assert.ok(spent < 2000, `${spent.toFixed(1)} ms of CPU`);
  });
});
