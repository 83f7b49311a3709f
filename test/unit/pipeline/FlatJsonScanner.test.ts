import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FlatJsonScanner, MAX_FLAT_FIELDS } from '../../../src/pipeline/FlatJsonScanner.ts';
import { parseRoutes } from '../../../src/route/parseRoutes.ts';
import { Router } from '../../../src/pipeline/Router.ts';

const RUNS = Number(process.env.FC_RUNS ?? 2000);
const runs = (numRuns: number): fc.Parameters<unknown> => {
  const seed = process.env.FC_SEED;
  return seed === undefined ? { numRuns } : { numRuns, seed: Number(seed), path: process.env.FC_PATH, endOnFailure: true };
};

/**
 * The scanner's promise: whenever it takes a payload, JSON.parse of the payload's text gives a plain object with
 * exactly those keys in that (for-in) order and exactly those values (Object.is: -0 and every rounding included).
 */
function agreesWithJsonParse(scanner: FlatJsonScanner, text: string): boolean {
  const buf = Buffer.from(text, 'utf8');
  if (!scanner.scan(buf)) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    assert.fail(`scanner took ${JSON.stringify(text)}, JSON.parse refused it: ${(e as Error).message}`);
  }
  assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), `not an object: ${text}`);
  const keys: string[] = [];
  for (const k in parsed) keys.push(k);
  assert.deepEqual(scanner.keys.slice(0, scanner.count), keys, `keys of ${text}`);
  for (let i = 0; i < keys.length; i++) {
    const want = (parsed as Record<string, unknown>)[keys[i]!];
    assert.ok(Object.is(scanner.values[i], want), `${text}: ${keys[i]} = ${String(scanner.values[i])}, JSON.parse: ${String(want)}`);
  }
  return true;
}

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
/** Numbers in JSON's grammar and just outside it: leading zeros, long mantissas, huge and tiny exponents. */
const numberText = fc.oneof(
  fc.double({ noNaN: true }).map((d) => (Number.isFinite(d) ? String(d) : '1e400')),
  fc.integer().map(String),
  fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      digits(1, 20),
      fc.option(digits(0, 20)),
      fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'E-', 'e-'), digits(0, 5))),
    )
    .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}`}`),
  fc.constantFrom(
    '-0',
    '0.0',
    '-0.0e5',
    '5e-324',
    '2e-324',
    '1.7976931348623157e308',
    '1.7976931348623159e308',
    '0.1',
    '9007199254740993',
    '1e22',
    '1e23',
    '123456789012345e-22',
    '-',
    '.5',
    '5.',
    '01',
    '1e',
    '0x10',
  ),
);
const value = fc.oneof(
  { weight: 6, arbitrary: numberText },
  fc.constantFrom('true', 'false', 'null', 'tru', 'nul', 'falsey', '"x"', '{}', '[]', '{"a":1}', '"\\u0041"'),
);
const key = fc.oneof(
  fc.constantFrom(
    't',
    'h',
    'p',
    'ts',
    'temp_C',
    'a b',
    'a,b',
    'a=b',
    '__proto__',
    'toString',
    '0',
    '1a',
    '-1',
    '',
    'é',
    'a\\"b',
    'a\\\\',
    'x\u007f',
    '\\u0074',
  ),
  fc.stringMatching(/^[ -~]{1,6}$/).filter((s) => !s.includes('"') && !s.endsWith('\\')),
);
const space = fc.constantFrom('', '', '', ' ', '\t', '\n', '\r\n', '\u00a0', '\v');
const member = fc.tuple(space, key, space, space, value, space).map(([a, k, b, c, v, d]) => `${a}"${k}"${b}:${c}${v}${d}`);
const object = fc
  .tuple(space, fc.array(member, { maxLength: MAX_FLAT_FIELDS + 2 }), space, fc.constantFrom('', '', '', ',', ' x', '}', '\u0000'))
  .map(([a, members, b, tail]) => `${a}{${members.join(',')}}${b}${tail}`);
/** What the scanner must take: unique plain keys, valid numbers (any size and precision), booleans, null. */
const validNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc
    .tuple(
      fc.constantFrom('', '-'),
      fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,19}$/)),
      fc.option(digits(1, 20)),
      fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'E-', 'e-'), digits(1, 4))),
    )
    .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}`}`),
);
const flatObject = fc
  .uniqueArray(
    fc.tuple(
      fc.stringMatching(/^[a-zA-Z_][ -!#-[\]-~]{0,7}$/),
      fc.oneof({ weight: 8, arbitrary: validNumber }, fc.constantFrom('true', 'false', 'null')),
    ),
    {
      maxLength: MAX_FLAT_FIELDS,
      selector: ([k]) => k,
    },
  )
  .map((members) => `{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}`);
/** Valid payloads broken by one edit: a byte removed, replaced or inserted, or the text cut short. */
const mutated = fc
  .tuple(object, fc.nat(), fc.constantFrom('', '"', ',', ':', '{', '}', '-', '.', 'e', '0', ' ', '\\'))
  .map(([text, at, c]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    return [text.slice(0, i) + c + text.slice(i + 1), text.slice(0, i) + c + text.slice(i), text.slice(0, i)][at % 3]!;
  });

describe('FlatJsonScanner', () => {
  it('takes the flat numeric payloads sensors send, keys in payload order, values exact', () => {
    const s = new FlatJsonScanner();
    for (const text of [
      '{"t":21.5,"h":40.1,"p":1013.2,"ts":1733250000000}',
      ' { "t" : -0 , "ok" : true , "off": false, "n" : null, "big": 1e400, "e": 2.5E-3 }\n',
      '{}',
      '{"__proto__":1,"toString":2}',
      '{"a b":1,"-1":2}',
    ]) {
      assert.equal(agreesWithJsonParse(s, text), true, text);
    }
  });

  it('leaves to JSON.parse what it does not read exactly: strings, nesting, integer-like, empty or repeated keys, escapes, non-ASCII, errors', () => {
    const s = new FlatJsonScanner();
    for (const text of [
      '{"s":"x"}',
      '{"o":{"a":1}}',
      '{"a":[1]}',
      '{"b":1,"2":3}',
      '{"":1}',
      '{"a":1,"a":null}',
      '{"\\u0061":1}',
      '{"é":1}',
      '\ufeff{"a":1}',
      '{"a":01}',
      '{"a":1,}',
      '{"a":1}x',
      '{"a":.5}',
      '{"a":+1}',
      '[1]',
      '1',
      '',
      `{${Array.from({ length: MAX_FLAT_FIELDS + 1 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
    ]) {
      assert.equal(s.scan(Buffer.from(text, 'utf8')), false, text);
    }
  });

  it('every payload it takes, JSON.parse reads the same (generated and mutated objects)', () => {
    const s = new FlatJsonScanner();
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(object, mutated, flatObject), (text) => {
        if (agreesWithJsonParse(s, text)) taken++;
      }),
      runs(RUNS),
    );
    assert.ok(taken > RUNS / 10, `only ${taken} of ${RUNS} generated payloads were flat enough to take`);
  });

  it('takes every flat object of plain keys and numbers, booleans or null, and reads it as JSON.parse does', () => {
    const s = new FlatJsonScanner();
    fc.assert(
      fc.property(flatObject, (text) => {
        assert.equal(agreesWithJsonParse(s, text), true, text);
      }),
      runs(RUNS),
    );
  });

  it('reuses the key strings of the previous payload, and notices a changed key', () => {
    const s = new FlatJsonScanner();
    assert.ok(s.scan(Buffer.from('{"temp":1,"hum":2}')));
    const first = s.keys[0];
    assert.ok(s.scan(Buffer.from('{"temp":3,"hum":4}')));
    assert.equal(s.keys[0], first);
    assert.ok(s.scan(Buffer.from('{"tamp":3,"hum":4}')));
    assert.deepEqual(s.keys.slice(0, s.count), ['tamp', 'hum']);
  });
});

describe('JsonDecoder on flat payloads (the scanner) and on the same payloads through JSON.parse', () => {
  const route = (extra: Record<string, unknown>) =>
    new Router({
      routes: parseRoutes([
        {
          topic: 'd/{device}/m',
          format: 'json',
          measurement: 'm',
          tags: { device: '{device}' },
          fields: [],
          flatten: false,
          timeField: '',
          timeUnit: 'auto',
          sinks: [],
          ...extra,
        },
      ]),
      sinkNames: ['influx'],
      gatewayId: 'gw',
      gatewayTag: false,
      maxPayloadBytes: 65_536,
    });
  // `fields: ["*"]`-free routes take the scanner; the same payload with a string field appended goes to JSON.parse
  // and must give the same line plus that field.
  it('same lines and same rejections, time field included', () => {
    for (const extra of [{}, { timeField: 'ts' }, { timeField: 'toString' }, { timeField: 'ts', timeUnit: 'ms' as const }]) {
      const router = route(extra);
      for (const text of [
        '{"t":21.5,"h":40,"ts":1733250000000}',
        '{"ts":1733250000000}',
        '{"t":1e400,"n":null}',
        '{"t":true,"ts":null}',
        '{"ts":true,"t":1}',
        '{"ts":-5,"t":1}',
        '{"bad\\u000aname":1}',
        '{"a\\nb":1}',
      ]) {
        const flat = router.route('d/dev1/m', Buffer.from(text), 1_733_000_000_000);
        // JSON.parse's path: the same object written with an escape the scanner never takes.
        const general = router.route('d/dev1/m', Buffer.from(text.replace(/^\{"/, '{"\\u0000dummy":null,"')), 1_733_000_000_000);
        assert.deepEqual(flat, general, `${JSON.stringify(extra)} ${text}`);
      }
    }
  });
});
