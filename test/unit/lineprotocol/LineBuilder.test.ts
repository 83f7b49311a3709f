import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Point } from '../../../src/sinks/influx/influxClient.ts';
import { canonicalDigits, LineBuilder } from '../../../src/lineprotocol/LineBuilder.ts';

type Field = readonly [key: string, kind: 'float' | 'bool' | 'string', value: number | boolean | string];

/** What Point writes for these fields after the series `m,t=v` (the reference for everything but newlines). */
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
    const key = fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', 'Z', '_', ' ', ',', '=', '"', 'é', '0', '😀') });
    const field = fc.oneof(
      fc.tuple(key, fc.constant('float' as const), fc.double({ noNaN: true, noDefaultInfinity: true })),
      fc.tuple(key, fc.constant('bool' as const), fc.boolean()),
      fc.tuple(key, fc.constant('string' as const), fc.string({ maxLength: 10, unit: fc.constantFrom('a', '"', '\\', ' ', ',', '=') })),
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

  it('never writes a raw newline or CR: a string value carries them as the two characters \\n and \\r', () => {
    const builder = new LineBuilder();
    const payload = 'x\ninj2_evil,device=victim,gateway=adv3 value=42 1000000000000\n';
    const line = viaBuilder(
      builder,
      [
        ['s', 'string', payload],
        ['c', 'string', 'a\r\nb'],
      ],
      '7',
    );
    assert.ok(!line.includes('\n') && !line.includes('\r'), line);
    assert.equal(line, 'm,t=v c="a\\r\\nb",s="x\\ninj2_evil,device=victim,gateway=adv3 value=42 1000000000000\\n" 7');
  });

  it('writes integers in one canonical form: no leading zeros, -0 as 0', () => {
    assert.equal(canonicalDigits('000000000000000000001'), '1');
    assert.equal(canonicalDigits('00018446744073709551615'), '18446744073709551615');
    assert.equal(canonicalDigits('-0009223372036854775808'), '-9223372036854775808');
    assert.equal(canonicalDigits('-000'), '0');
    assert.equal(canonicalDigits('0'), '0');
    assert.equal(canonicalDigits('120'), '120');
    const builder = new LineBuilder();
    builder.reset();
    builder.integer('v', '000000000000000000001', false);
    builder.integer('w', '-007', true);
    assert.equal(builder.line('m', '1'), 'm v=1u,w=-7i 1');
  });
});
