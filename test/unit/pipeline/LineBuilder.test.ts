import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Point } from '../../../src/sinks/influx/influxClient.ts';
import { LineBuilder } from '../../../src/pipeline/LineBuilder.ts';

type Field = readonly [key: string, kind: 'float' | 'bool' | 'string', value: number | boolean | string];

/** What Point writes for these fields after the series `m,t=v`. */
function viaPoint(fields: readonly Field[], ts: string): string {
  const p = new Point('m').tag('t', 'v');
  for (const [k, kind, v] of fields) {
    if (kind === 'float') p.floatField(k, v as number);
    else if (kind === 'bool') p.booleanField(k, v as boolean);
    else p.stringField(k, v as string);
  }
  return p.timestamp(ts).toLineProtocol()!;
}

function viaBuilder(builder: LineBuilder, fields: readonly Field[], ts: string): string {
  builder.reset();
  for (const [k, kind, v] of fields) {
    if (kind === 'float') builder.float(k, v as number);
    else if (kind === 'bool') builder.bool(k, v as boolean);
    else builder.string(k, v as string);
  }
  return builder.line('m,t=v', ts);
}

describe('LineBuilder', () => {
  it('writes what Point writes: sorted keys, last value of a repeated key, escapes (property)', () => {
    const builder = new LineBuilder(); // one builder across runs: its caches must not leak between lines
    const key = fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', 'Z', '_', ' ', ',', '=', '"', '\n', 'é', '0', '😀') });
    const field = fc.oneof(
      fc.tuple(key, fc.constant('float' as const), fc.double({ noNaN: true, noDefaultInfinity: true })),
      fc.tuple(key, fc.constant('bool' as const), fc.boolean()),
      fc.tuple(key, fc.constant('string' as const), fc.string({ maxLength: 10, unit: fc.constantFrom('a', '"', '\\', ' ', '\n', ',', '=') })),
    );
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2 ** 52 }), (fields, ts) => {
        assert.equal(viaBuilder(builder, fields, String(ts)), viaPoint(fields, String(ts)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a payload of thousands of fields fast (no quadratic work)', () => {
    const builder = new LineBuilder();
    const fields: Field[] = Array.from({ length: 5000 }, (_, i) => [`k${(i * 7919) % 5000}`, 'float', i] as const);
    fields.push(['k1', 'float', -1]); // a repeat among many
    assert.equal(viaBuilder(builder, fields, '1'), viaPoint(fields, '1'));
  });
});
