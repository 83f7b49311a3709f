import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseLine } from '../../../src/lineprotocol/parseLine.ts';
import { splitPoint } from '../../../src/lineprotocol/splitPoint.ts';

describe('splitPoint', () => {
  it('cuts a line into series, fields and timestamp, each as written', () => {
    assert.deepEqual(splitPoint('m\\ 1,a=b\\,c t=1.5,s="x, y=\\"z\\"",i=3i 123'), {
      series: 'm\\ 1,a=b\\,c',
      fields: [
        { key: 't', value: '1.5' },
        { key: 's', value: '"x, y=\\"z\\""' },
        { key: 'i', value: '3i' },
      ],
      timestamp: '123',
    });
    assert.deepEqual(splitPoint('m f\\=1=T'), { series: 'm', fields: [{ key: 'f\\=1', value: 'T' }], timestamp: '' });
    assert.equal(splitPoint('m'), undefined);
  });

  it('written back from its parts, any line parseLine accepts reads the same', () => {
    const key = fc.stringMatching(/^[a-z ,=\\"]{1,6}$/).filter((k) => !k.endsWith('\\'));
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.string().map((s) => JSON.stringify(s)),
      fc.constant('T'),
      fc.integer().map((n) => `${n}i`),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 4 }), (fields) => {
        const esc = (k: string) => k.replace(/[\\ ,="]/g, (c) => `\\${c}`);
        const line = `m,t=v ${fields.map(([k, v]) => `${esc(k)}=${v}`).join(',')} 42`;
        const parsed = parseLine(line);
        if (!parsed.ok) return; // not a line the gateway could have written
        const p = splitPoint(line)!;
        const rebuilt = `${p.series} ${p.fields.map((f) => `${f.key}=${f.value}`).join(',')} ${p.timestamp}`;
        assert.equal(rebuilt, line);
        assert.equal(p.fields.length, parsed.line.fields.length);
      }),
    );
  });
});
