import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_ROUTE, parseRoutes } from '../../../src/route/parseRoutes.ts';
import type { RouteConfig } from '../../../src/config/Config.ts';
import { isWritableName } from '../../../src/lineprotocol/isWritableName.ts';
import { LineBuilder } from '../../../src/lineprotocol/LineBuilder.ts';
import { type ParsedLine, parseLine } from '../../../src/lineprotocol/parseLine.ts';
import { seriesKeyEnd } from '../../../src/lineprotocol/seriesKeyEnd.ts';
import { SimpleLine } from '../../../src/lineprotocol/SimpleLine.ts';
import { splitLines } from '../../../src/lineprotocol/splitLines.ts';
import { writeSeries } from '../../../src/lineprotocol/writeSeries.ts';
import { DEFAULT_LIMITS } from '../../../src/pipeline/PointLimits.ts';
import { REJECT_REASONS, type RouteResult } from '../../../src/pipeline/RouteResult.ts';
import { Router } from '../../../src/pipeline/Router.ts';

/**
 * Fuzzing the grammar (issue 12): numbers at their limits, escapes at every position, huge field counts, newlines
 * and separators in every name and value. Crash oracle: no decoder, the parser, the splitter or the fast scanner
 * ever throws. Round trip: what the gateway writes, its parser — which agrees with InfluxDB's corpus
 * (corpus.test.ts) — reads back as the same point. FC_RUNS sets the runs per property (default 1000); FC_SEED and
 * FC_PATH replay a failure.
 */

const RUNS = Number(process.env.FC_RUNS ?? 1000);
function runs(numRuns = RUNS): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED;
  return seed === undefined ? { numRuns } : { numRuns, seed: Number(seed), path: process.env.FC_PATH, endOnFailure: true };
}

const ROUTES: RouteConfig[] = [
  { ...DEFAULT_ROUTE, topic: 'lp/{device}', format: 'line', measurement: '', tags: { device: '{device}' }, timeField: '', timeUnit: 'ns' },
  { ...DEFAULT_ROUTE, topic: 'num/{device}/{measurement}', format: 'number' },
  { ...DEFAULT_ROUTE, topic: 'flat/{device}/{measurement}', flatten: true },
  DEFAULT_ROUTE,
];
const router = new Router({
  routes: parseRoutes(ROUTES),
  sinkNames: ['influx', 'redis'],
  gatewayId: 'gw1',
  gatewayTag: true,
  maxPayloadBytes: 1 << 20,
});

/** The crash oracle for a whole message: never a throw, always one of the three outcomes with a known reason. */
function route(topic: string, payload: string): RouteResult {
  let result: RouteResult;
  try {
    result = router.route(topic, Buffer.from(payload), 1_732_240_000_000);
  } catch (error) {
    assert.fail(`Router threw on ${JSON.stringify(topic)} ${JSON.stringify(payload.slice(0, 200))}: ${(error as Error).stack}`);
  }
  if (result.kind === 'rejected') assert.ok((REJECT_REASONS as readonly string[]).includes(result.reason), result.reason);
  if (result.kind === 'ok') {
    const out = result.entry.lines;
    assert.ok(!out.includes('\r'), 'no raw CR in what is written');
    const split = splitLines(out);
    assert.equal(split.length, result.entry.points, `one line per point: ${JSON.stringify(out)}`);
    for (const l of split) {
      assert.ok(!l.includes('\n'), `no raw newline in a written line: ${JSON.stringify(l)}`);
      const p = parseLine(l);
      assert.ok(p.ok, `written line does not parse: ${JSON.stringify(l)}`);
    }
  }
  return result;
}

/** The crash oracle for the grammar's parts on one text. */
function grammarNeverThrows(text: string): void {
  for (const l of splitLines(text)) {
    const p = parseLine(l);
    assert.ok(typeof p.ok === 'boolean');
    seriesKeyEnd(l);
    const bytes = Buffer.from(l);
    new SimpleLine().scan(bytes, 0, bytes.length);
  }
}

// Characters that mean something to line protocol, JSON, MQTT or a terminal.
const SPECIALS = [
  ' ',
  ',',
  '=',
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\0',
  '\u000b',
  '#',
  '{',
  '}',
  'é',
  '😀',
  '\u2028',
  'a',
  'b',
  '0',
  '1',
  'i',
  'u',
  't',
  'e',
  '-',
  '.',
  '+',
];
const nasty = fc.string({ unit: fc.constantFrom(...SPECIALS), maxLength: 16 });

describe('line protocol fuzz (issue 12)', () => {
  it('integers at their limits: leading zeros, 20+ digits, i/u at and past 64 bits are accepted exactly when in range', () => {
    const digits = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 65n }).map(String),
      fc.constantFrom('9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616', '0', '1'),
      fc.string({ unit: fc.constantFrom('0', '1', '9'), minLength: 1, maxLength: 30 }),
    );
    const token = fc.tuple(fc.boolean(), fc.nat({ max: 25 }), digits, fc.constantFrom('i', 'u'));
    fc.assert(
      fc.property(token, ([negative, zeros, d, suffix]) => {
        const text = `${negative ? '-' : ''}${'0'.repeat(zeros)}${d}`;
        const value = BigInt(text);
        const inRange = suffix === 'i' ? value >= -(2n ** 63n) && value < 2n ** 63n : !negative && value < 2n ** 64n;
        const p = parseLine(`m v=${text}${suffix}`);
        assert.equal(p.ok, inRange, `${text}${suffix}`);
        const result = route('lp/d', `m v=${text}${suffix} 1000`);
        if (!inRange) return assert.equal(result.kind === 'rejected' && result.reason, 'bad_line');
        assert.ok(result.kind === 'ok');
        assert.equal(result.entry.lines, `m,device=d,gateway=gw1 v=${value}${suffix} 1`);
      }),
      runs(),
    );
  });

  it('escapes at every position: a backslash (or two) inserted anywhere into a valid line never crashes any part', () => {
    const base = fc.constantFrom(
      'cpu,host=a,region=b v=1i,s="x y",f=1.5,b=t 1000',
      'm f=1',
      'm\\ x,t\\=1=v\\,2 k\\ e=2u',
      'a,b=c d="e\\"f\\\\g"',
    );
    fc.assert(
      fc.property(base, fc.nat(), fc.constantFrom('\\', '\\\\', '\\\n', '\\"', '\\ '), (line, at, insert) => {
        const i = at % (line.length + 1);
        const text = line.slice(0, i) + insert + line.slice(i);
        grammarNeverThrows(text);
        route('lp/d', text);
      }),
      runs(),
    );
  });

  it('any text at all: the parser, splitter, fast scanner and the line decoder never throw', () => {
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom(...SPECIALS, 'm', 'f', '=', '1'), maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        grammarNeverThrows(t);
        route('lp/d', t);
      }),
      runs(),
    );
  });

  it('JSON and number decoders never throw on nasty names, values and topic levels', () => {
    const value = fc.oneof(
      fc.double(),
      nasty,
      fc.boolean(),
      fc.constant(null),
      fc.dictionary(nasty, fc.oneof(fc.double(), nasty), { maxKeys: 4 }),
    );
    const level = nasty.map((s) => s.replaceAll('/', '|').replaceAll('+', 'p').replaceAll('#', 'h'));
    fc.assert(
      fc.property(level, level, fc.dictionary(nasty, value, { maxKeys: 8 }), nasty, (device, measurement, obj, raw) => {
        route(`sensors/${device}/${measurement}`, JSON.stringify(obj));
        route(`flat/${device}/${measurement}`, JSON.stringify(obj));
        route(`num/${device}/${measurement}`, raw);
        route(`sensors/${device}/${measurement}`, raw);
      }),
      runs(),
    );
  });

  it('huge field counts: JSON and line payloads with up to 5000 fields are written or refused as too_many_fields, never thrown', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.boolean(), (n, asLine) => {
        const payload = asLine
          ? `m ${Array.from({ length: n }, (_, i) => `f${i}=${i}`).join(',')}`
          : JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i])));
        const result = route(asLine ? 'lp/d' : 'sensors/d/m', payload);
        if (n > DEFAULT_LIMITS.maxFields) assert.equal(result.kind === 'rejected' && result.reason, 'too_many_fields');
        else assert.equal(result.kind, 'ok');
      }),
      runs(Math.max(20, Math.round(RUNS / 20))),
    );
  });

  it('round trip: every point the writer writes — newlines, separators, quotes, backslashes in every name and value — reads back the same', () => {
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ kind: 'float' as const, value: v })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ kind: 'int' as const, value: String(v) })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ kind: 'uint' as const, value: String(v) })),
      fc.boolean().map((v) => ({ kind: 'bool' as const, value: v })),
      nasty.map((v) => ({ kind: 'string' as const, value: v })),
    );
    const name = nasty.filter((s) => s !== '' && isWritableName(s) && s.isWellFormed());
    const point = fc.record({
      measurement: name,
      tags: fc.uniqueArray(fc.tuple(name, fc.oneof(name, fc.constant(''))), { selector: (t) => t[0], maxLength: 5 }),
      fields: fc.uniqueArray(fc.tuple(name, value), { selector: (f) => f[0], minLength: 1, maxLength: 6 }),
      ts: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    });
    const builder = new LineBuilder();
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 4 }), (points) => {
        const written = points.map((p) => {
          builder.reset();
          for (const [k, v] of p.fields) {
            if (v.kind === 'float') builder.float(k, v.value);
            else if (v.kind === 'bool') builder.bool(k, v.value);
            else if (v.kind === 'string') builder.string(k, v.value);
            else builder.integer(k, v.value, v.kind === 'int');
          }
          return builder.line(writeSeries(p.measurement, p.tags), String(p.ts));
        });
        const body = written.join('\n');
        assert.ok(!body.includes('\r') && splitLines(body).length === points.length, `one line per point: ${JSON.stringify(body)}`);
        splitLines(body).forEach((line, n) => {
          const p = points[n]!;
          const r = parseLine(line);
          assert.ok(r.ok, `${JSON.stringify(line)}: ${r.ok ? '' : r.error}`);
          const want: ParsedLine = {
            measurement: p.measurement,
            tags: p.tags.filter(([, v]) => v !== '').sort((a, b) => (a[0] < b[0] ? -1 : 1)),
            fields: [...p.fields]
              .sort((a, b) => (a[0] < b[0] ? -1 : 1))
              .map(([k, v]) =>
                v.kind === 'string'
                  ? { name: k, kind: 'string', value: v.value.replaceAll('\n', '\\n').replaceAll('\r', '\\r') }
                  : v.kind === 'float'
                    ? { name: k, kind: 'float', value: v.value === 0 ? 0 : v.value } // -0 is written as 0
                    : ({ name: k, kind: v.kind, value: v.value } as ParsedLine['fields'][number]),
              ),
            timestamp: String(p.ts),
          };
          assert.deepEqual(r.line, want, JSON.stringify(line));
          // The Redis sink's cut of the series key agrees with the parser's.
          assert.equal(line.slice(0, seriesKeyEnd(line)), writeSeries(p.measurement, p.tags));
        });
      }),
      runs(),
    );
  });
});
