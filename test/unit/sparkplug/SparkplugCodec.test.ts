import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataTypeName, DataType } from '../../../src/sparkplug/DataType.ts';
import { decodePayload, encodePayload, has, int64, type Payload, uint64 } from '../../../src/sparkplug/SparkplugCodec.ts';

function decode(bytes: Uint8Array): Payload {
  const p = decodePayload(bytes);
  if ('error' in p) assert.fail(p.error);
  return p;
}

describe('Sparkplug B codec', () => {
  it('round-trips a payload with the fields of the specification (timestamp, seq, uuid, metrics)', () => {
    const p = decode(
      encodePayload({
        timestamp: 1486144502122,
        seq: 2,
        uuid: 'u-1',
        metrics: [{ name: 'Supply Voltage', alias: 7, timestamp: 1486144502122, datatype: DataType.Float, float_value: 12.1 }],
      }),
    );
    assert.equal(uint64(p.timestamp!), 1486144502122);
    assert.equal(uint64(p.seq!), 2);
    assert.equal(p.uuid, 'u-1');
    const m = p.metrics[0]!;
    assert.equal(m.name, 'Supply Voltage');
    assert.equal(uint64(m.alias!), 7);
    assert.ok(has(m, 'float_value'));
    assert.equal(m.float_value, Math.fround(12.1));
  });

  it('tells optional fields present from absent (proto2 presence)', () => {
    const p = decode(encodePayload({ metrics: [{ alias: 1, int_value: 0 }] }));
    assert.equal(has(p, 'seq'), false);
    assert.equal(has(p, 'timestamp'), false);
    assert.equal(has(p.metrics[0]!, 'alias'), true);
    assert.equal(has(p.metrics[0]!, 'name'), false);
    assert.ok(has(p.metrics[0]!, 'int_value'));
    assert.equal(has(p.metrics[0]!, 'long_value'), false);
  });

  it('reads 64-bit values exactly: unsigned beyond 2^53 as bigint, Int64 as two’s complement', () => {
    const p = decode(
      encodePayload({
        metrics: [
          { alias: 1, long_value: '18446744073709551615' },
          { alias: 2, long_value: '9007199254740993' },
          { alias: 3, long_value: '18446744073709551615' },
          { alias: 4, long_value: '9223372036854775808' },
        ],
      }),
    );
    assert.equal(uint64(p.metrics[0]!.long_value!), 18446744073709551615n);
    assert.equal(uint64(p.metrics[1]!.long_value!), 9007199254740993n);
    assert.equal(int64(p.metrics[2]!.long_value!), -1);
    assert.equal(int64(p.metrics[3]!.long_value!), -9223372036854775808n);
  });

  it('answers an error, never throws, for bytes that are not a payload', () => {
    for (const bytes of [Buffer.from('garbage'), Buffer.from([0x0a, 0xff]), Buffer.from([0x12, 0x05, 0x0a])]) {
      const p = decodePayload(bytes);
      assert.ok('error' in p, `${bytes.toString('hex')} decoded`);
    }
    // An empty buffer is a valid empty payload (no metrics).
    assert.deepEqual(decode(Buffer.alloc(0)).metrics, []);
  });

  it('names data types', () => {
    assert.equal(dataTypeName(DataType.Template), 'Template');
    assert.equal(dataTypeName(99), 'datatype 99');
  });
});
