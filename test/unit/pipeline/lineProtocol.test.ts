import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Point } from '../../../src/sinks/influx/influxClient.ts';
import { isSafeName } from '../../../src/pipeline/isSafeName.ts';
import { type ParsedField, type ParsedLine, parseLine } from '../../../src/pipeline/lineProtocol.ts';
import { splitLines } from '../../../src/pipeline/splitLines.ts';

function ok(line: string): ParsedLine {
  const p = parseLine(line);
  if (typeof p === 'string') assert.fail(`${JSON.stringify(line)}: ${p}`);
  return p;
}

describe('parseLine', () => {
  it('parses a full line', () => {
    assert.deepEqual(ok('climate,device=dev1,gateway=gw1 h=40,t=21.5 1732240000000000'), {
      measurement: 'climate',
      tags: [
        ['device', 'dev1'],
        ['gateway', 'gw1'],
      ],
      fields: [
        { name: 'h', kind: 'float', value: 40 },
        { name: 't', kind: 'float', value: 21.5 },
      ],
      timestamp: '1732240000000000',
    });
  });

  it('timestamp and tags are optional', () => {
    assert.deepEqual(ok('m f=1'), { measurement: 'm', tags: [], fields: [{ name: 'f', kind: 'float', value: 1 }], timestamp: undefined });
    assert.equal(ok('m f=1 -5').timestamp, '-5');
    assert.equal(ok('m f=1 123 ').timestamp, '123');
    assert.equal(ok('m f=1 123\r').timestamp, '123');
  });

  it('field value kinds', () => {
    const fields = ok('m a=1i,b=-9223372036854775808i,c=18446744073709551615u,d="x",e=-1.5e-3,f=.5,g=5.,h=1e+21,i=0u').fields;
    assert.deepEqual(fields, [
      { name: 'a', kind: 'int', value: '1' },
      { name: 'b', kind: 'int', value: '-9223372036854775808' },
      { name: 'c', kind: 'uint', value: '18446744073709551615' },
      { name: 'd', kind: 'string', value: 'x' },
      { name: 'e', kind: 'float', value: -0.0015 },
      { name: 'f', kind: 'float', value: 0.5 },
      { name: 'g', kind: 'float', value: 5 },
      { name: 'h', kind: 'float', value: 1e21 },
      { name: 'i', kind: 'uint', value: '0' },
    ]);
    for (const t of ['t', 'T', 'true', 'True', 'TRUE']) assert.deepEqual(ok(`m b=${t}`).fields[0], { name: 'b', kind: 'bool', value: true });
    for (const f of ['f', 'F', 'false', 'False', 'FALSE']) assert.deepEqual(ok(`m b=${f}`).fields[0], { name: 'b', kind: 'bool', value: false });
  });

  it('unescapes names', () => {
    const p = ok('my\\ meas\\,ure=x,t\\ a\\,g\\=k=v\\ a\\,l\\=ue f\\ i\\,e\\=ld="s\\"t\\\\r\\ning" 1');
    assert.equal(p.measurement, 'my meas,ure=x');
    assert.deepEqual(p.tags, [['t a,g=k', 'v a,l=ue']]);
    assert.deepEqual(p.fields, [{ name: 'f i,e=ld', kind: 'string', value: 's"t\\r\\ning' }]);
  });

  it('keeps other backslashes literal, like InfluxDB', () => {
    assert.equal(ok('a\\=b f=1').measurement, 'a\\=b');
    assert.deepEqual(ok('m,t=a\\\\ f=1').tags, [['t', 'a\\\\']]);
    assert.deepEqual(ok('m,t=a\\nb f=1').tags, [['t', 'a\\nb']]);
    assert.equal(ok('m f="a\\b"').fields[0]!.value, 'a\\b');
  });

  it('allows raw newlines and commas/spaces/equals inside string fields', () => {
    assert.deepEqual(ok('m s="a\nb, c=d e",n=1').fields, [
      { name: 's', kind: 'string', value: 'a\nb, c=d e' },
      { name: 'n', kind: 'float', value: 1 },
    ]);
    assert.deepEqual(ok('m s=""').fields, [{ name: 's', kind: 'string', value: '' }]);
  });

  it('keeps unicode', () => {
    const p = ok('température,pièce=salon\\ 😀 中文="日本語 😀" 1');
    assert.equal(p.measurement, 'température');
    assert.deepEqual(p.tags, [['pièce', 'salon 😀']]);
    assert.deepEqual(p.fields, [{ name: '中文', kind: 'string', value: '日本語 😀' }]);
  });

  it('rejects malformed lines with a message', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /missing measurement/],
      [' f=1', /missing fields|missing measurement/],
      [',t=1 f=1', /missing measurement/],
      ['m', /missing fields/],
      ['m ', /missing field key/],
      ['m,t=1', /missing fields/],
      ['m,=1 f=1', /missing tag key/],
      ['m,t= f=1', /missing value of tag/],
      ['m,t f=1', /missing "="/],
      ['m,t=a=b f=1', /unescaped "="/],
      ['m f', /missing "="/],
      ['m f=', /missing value/],
      ['m =1', /missing field key/],
      ['m f=1,', /missing field key/],
      ['m f=abc', /invalid value/],
      ['m f=NaN', /invalid value/],
      ['m f=Inf', /invalid value/],
      ['m f=-Inf', /invalid value/],
      ['m f=1e999', /out of range/],
      ['m f=1.5i', /invalid value/],
      ['m f=-1u', /invalid value/],
      ['m f=9223372036854775808i', /invalid value/],
      ['m f=18446744073709551616u', /invalid value/],
      ['m f="abc', /unterminated string/],
      ['m f=1 12a', /invalid timestamp/],
      ['m f=1 1.5', /invalid timestamp/],
      ['m f=1 123 456', /trailing characters/],
      ['m f=1 123 x', /trailing characters/],
      ['m f="a"x', /unexpected character/],
      ['m f=tru', /invalid value/],
      ['m,t=a\nb f=1', /unexpected newline/],
      ['#m f=1', /comment/],
    ];
    for (const [line, message] of bad) {
      const r = parseLine(line);
      assert.equal(typeof r, 'string', JSON.stringify(line));
      assert.match(r as string, message, JSON.stringify(line));
    }
  });
});

describe('splitLines', () => {
  it('splits on newlines outside string fields only', () => {
    assert.deepEqual(splitLines('a f=1\nb f="x\ny"\n\nc,t=a"b f="\\"\n" 5'), ['a f=1', 'b f="x\ny"', '', 'c,t=a"b f="\\"\n" 5']);
    assert.deepEqual(splitLines('a f=1'), ['a f=1']);
    assert.deepEqual(splitLines('a f=1\n'), ['a f=1', '']);
    assert.deepEqual(splitLines('m s="a\\\\"\nn f=1'), ['m s="a\\\\"', 'n f=1']);
  });
});

describe('isSafeName', () => {
  it('refuses odd backslash runs before a delimiter or at the end, and a leading #', () => {
    for (const s of ['a', 'a\\b', 'a\\\\', 'a\\\\,b', '\\n', 'x#']) assert.equal(isSafeName(s), true, s);
    for (const s of ['a\\', 'a\\\\\\', 'a\\,b', 'a\\ b', 'a\\=b', 'a\\\n', '#x']) assert.equal(isSafeName(s), false, s);
  });
});

// Round trip: Point → toLineProtocol → splitLines → parseLine over generated nasty strings.
describe('round trip through Point', () => {
  // Deterministic PRNG (mulberry32): failures reproduce.
  let seed = 0x5eed;
  function random(): number {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const ALPHABET = ['a', 'Z', '0', ' ', ',', '=', '"', '\\', '\n', '\r', '\t', '#', 'i', 'u', 'é', '😀', '中', '\u0000', "'", '{', '}'];
  const nasty = (min: number): string => {
    let s = '';
    const n = min + Math.floor(random() * 8);
    for (let i = 0; i < n; i++) s += pick(ALPHABET);
    return s;
  };
  // What InfluxDB stores for a name written by Point: Point turns \n \r \t into backslash + letter.
  const asStored = (s: string): string => s.replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');
  const FLOATS = [0, 1, -1, 21.5, 1e21, 1e-7, -123456789.123, Number.MAX_VALUE, Number.MIN_VALUE, 0.1 + 0.2];

  it('reads back what Point wrote, for 3000 generated points', () => {
    let checked = 0;
    const lines: string[] = [];
    const expected: ParsedLine[] = [];
    while (checked < 3000) {
      const measurement = nasty(1);
      if (!isSafeName(measurement)) continue;
      const point = new Point(measurement);
      const tags: Record<string, string> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) {
        const k = nasty(1);
        const v = nasty(0);
        if (!isSafeName(k) || !isSafeName(v)) continue;
        tags[k] = v;
        point.tag(k, v);
      }
      const fields: Record<string, ParsedField> = {};
      for (let i = 1 + Math.floor(random() * 3); i > 0; i--) {
        const name = nasty(1);
        if (!isSafeName(name)) continue;
        const kind = Math.floor(random() * 5);
        const f: ParsedField =
          kind === 0
            ? { name: asStored(name), kind: 'float', value: pick(FLOATS) }
            : kind === 1
              ? { name: asStored(name), kind: 'int', value: String(Math.floor((random() - 0.5) * 1e15)) }
              : kind === 2
                ? { name: asStored(name), kind: 'uint', value: String(Math.floor(random() * 1e15)) }
                : kind === 3
                  ? { name: asStored(name), kind: 'bool', value: random() < 0.5 }
                  : { name: asStored(name), kind: 'string', value: nasty(0) };
        if (f.kind === 'float') point.floatField(name, f.value);
        else if (f.kind === 'int') point.intField(name, Number(f.value));
        else if (f.kind === 'uint') point.uintField(name, f.value);
        else if (f.kind === 'bool') point.booleanField(name, f.value);
        else point.stringField(name, f.value);
        fields[name] = f;
      }
      if (Object.keys(fields).length === 0) continue;
      const ts = String(Math.floor(random() * 2e15));
      point.timestamp(ts);
      const line = point.toLineProtocol();
      assert.ok(line !== undefined);
      // Point sorts tags and fields by key and omits empty tag values.
      const want: ParsedLine = {
        measurement: asStored(measurement),
        tags: Object.keys(tags)
          .sort()
          .filter((k) => tags[k] !== '')
          .map((k) => [asStored(k), asStored(tags[k]!)] as const),
        fields: Object.keys(fields)
          .sort()
          .map((k) => fields[k]!),
        timestamp: ts,
      };
      assert.deepEqual(parseLine(line), want, JSON.stringify(line));
      lines.push(line);
      expected.push(want);
      checked++;
    }
    // The same lines joined as an Entry: splitting must not cut string fields that contain newlines.
    const split = splitLines(lines.join('\n'));
    assert.equal(split.length, lines.length);
    assert.deepEqual(split.map(parseLine), expected);
  });
});
