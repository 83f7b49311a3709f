import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedLine, parseLine } from '../../../src/lineprotocol/parseLine.ts';
import { isWritableName } from '../../../src/lineprotocol/isWritableName.ts';
import { seriesKeyEnd } from '../../../src/lineprotocol/seriesKeyEnd.ts';
import { splitLines } from '../../../src/lineprotocol/splitLines.ts';

function ok(line: string): ParsedLine {
  const p = parseLine(line);
  if (!p.ok) assert.fail(`${JSON.stringify(line)}: ${p.error}`);
  return p.line;
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
    for (const t of ['t', 'T', 'true', 'True', 'TRUE'])
      assert.deepEqual(ok(`m b=${t}`).fields[0], { name: 'b', kind: 'bool', value: true });
    for (const f of ['f', 'F', 'false', 'False', 'FALSE'])
      assert.deepEqual(ok(`m b=${f}`).fields[0], { name: 'b', kind: 'bool', value: false });
  });

  it('unescapes names', () => {
    const p = ok('my\\ meas\\,ure=x,t\\ a\\,g\\=k=v\\ a\\,l\\=ue f\\ i\\,e\\=ld="s\\"t\\\\r\\ning" 1');
    assert.equal(p.measurement, 'my meas,ure=x');
    assert.deepEqual(p.tags, [['t a,g=k', 'v a,l=ue']]);
    assert.deepEqual(p.fields, [{ name: 'f i,e=ld', kind: 'string', value: 's"t\\r\\ning' }]);
  });

  it('keeps other backslashes literal, like InfluxDB', () => {
    assert.equal(ok('a\\=b f=1').measurement, 'a\\=b');
    assert.deepEqual(ok('m,t=a\\\\b f=1').tags, [['t', 'a\\\\b']]);
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
      ['m ', /missing fields/],
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
      ['m,a=1,b=2,a=3 f=1', /duplicate tag key "a"/],
      ['m,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,c=10 f=1', /duplicate tag key "c"/],
      ['m f\\\\=1', /ends in a backslash/],
      ['m f=1 9223372036854775808', /invalid timestamp/],
      ['m f=1 -9223372036854775809', /invalid timestamp/],
      ['m f=1\t2', /invalid value/],
    ];
    for (const [line, message] of bad) {
      const r = parseLine(line);
      assert.equal(r.ok, false, JSON.stringify(line));
      if (!r.ok) assert.match(r.error, message, JSON.stringify(line));
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

describe('parseLine reads as InfluxDB 1.x/2.x (issue 12 item 5)', () => {
  it('a character after any backslash is escaped in the series key: two\\\\ words is one tag value', () => {
    const p = ok('cpu,host=two\\\\ words value=42');
    assert.deepEqual(p.tags, [['host', 'two\\ words']]);
    assert.equal(ok('cpu\\\\ x v=1').measurement, 'cpu\\ x');
    // The case: tag value `east\ ` (the first space escaped by the second backslash).
    assert.deepEqual(ok('cpu,regions=east\\\\  value=1.0').tags, [['regions', 'east\\ ']]);
  });

  it('leading tabs and NULs are skipped like spaces; tabs may separate the sections', () => {
    assert.equal(ok('\tm f=1').measurement, 'm');
    assert.equal(ok('\u0000 \tm f=1').measurement, 'm');
    assert.deepEqual(ok('m \tf=1 \t5'), { measurement: 'm', tags: [], fields: [{ name: 'f', kind: 'float', value: 1 }], timestamp: '5' });
  });

  it('a tag value may start with "="; field keys unescape \\" too', () => {
    assert.deepEqual(ok('cpu,a==b v=1').tags, [['a', '=b']]);
    assert.equal(ok('cpu a\\"b=1').fields[0]!.name, 'a"b');
  });

  it('integers with leading zeros and more than 20 characters, in range, are accepted (issue 12 item 1)', () => {
    assert.deepEqual(ok('m v=000000000000000000001u').fields[0], { name: 'v', kind: 'uint', value: '000000000000000000001' });
    assert.deepEqual(ok('m v=00018446744073709551615u').fields[0], { name: 'v', kind: 'uint', value: '00018446744073709551615' });
    assert.deepEqual(ok('m v=-0009223372036854775808i').fields[0], { name: 'v', kind: 'int', value: '-0009223372036854775808' });
    assert.equal(parseLine('m v=00018446744073709551616u').ok, false);
  });
});

describe('seriesKeyEnd', () => {
  it('finds the first space not right after a backslash', () => {
    assert.equal(seriesKeyEnd('m f=1'), 1);
    assert.equal(seriesKeyEnd('m,t=a\\ b f=1'), 8);
    assert.equal(seriesKeyEnd('m,t=two\\\\ words f=1'), 15);
    assert.equal(seriesKeyEnd('m'), -1);
  });
});

describe('isWritableName', () => {
  it('refuses control characters, a trailing backslash, an odd backslash run before a delimiter, \\", a leading #', () => {
    for (const s of ['a', 'a\\b', 'a\\\\b', 'a\\\\ b', 'a\\\\,b', 'x#', 'a b,c=d"e', 'é😀']) assert.equal(isWritableName(s), true, s);
    const refused = [
      'a\\',
      'a\\\\',
      'a\\,b',
      'a\\ b',
      'a\\=b',
      'a\\\\\\ b',
      'a\\"b',
      'a\\\\"b',
      '#x',
      '__proto__',
      'a\nb',
      'a\rb',
      'a\tb',
      '\u0000',
      'a\u007f',
    ];
    for (const s of refused) assert.equal(isWritableName(s), false, JSON.stringify(s));
  });
});
