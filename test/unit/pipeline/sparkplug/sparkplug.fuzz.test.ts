import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseLine } from '../../../../src/lineprotocol/parseLine.ts';
import { REJECT_REASONS, type RouteResult } from '../../../../src/pipeline/RouteResult.ts';
import { DataType } from '../../../../src/sparkplug/DataType.ts';
import { encodePayload } from '../../../../src/sparkplug/SparkplugCodec.ts';
import { sparkplugKit } from './sparkplugKit.ts';

/**
 * Fuzzing the Sparkplug decoder: random bytes, and valid payloads with random bytes flipped, cut or appended, on
 * every message type, with a node born first so that the decoder gets past the protobuf into the host state.
 * Oracle: nothing throws; every message gets exactly one outcome (written, rejected with a known reason, or a
 * command counted as unrouted); every line written reads back as line protocol. FC_RUNS sets the runs (default 2000).
 */

const RUNS = Number(process.env.FC_RUNS ?? 2000);
const TYPES = ['NBIRTH', 'NDATA', 'NDEATH', 'NCMD', 'DBIRTH/pump', 'DDATA/pump', 'DDEATH/pump', 'DCMD/pump'];

function birth(): Buffer {
  return encodePayload({
    timestamp: 1700000000000,
    seq: 0,
    metrics: [
      { name: 'bdSeq', datatype: DataType.UInt64, long_value: 1 },
      { name: 'a', alias: 1, datatype: DataType.Int32, int_value: 1 },
      {
        name: 'b',
        alias: 2,
        datatype: DataType.DataSet,
        dataset_value: { columns: ['x'], types: [DataType.Double], rows: [{ elements: [{ double_value: 1 }] }] },
      },
      {
        name: 'c',
        alias: 3,
        datatype: DataType.Template,
        template_value: { metrics: [{ name: 'm', datatype: DataType.String, string_value: 's' }] },
      },
      { name: 'd', alias: 4, datatype: DataType.FloatArray, bytes_value: Buffer.alloc(8) },
    ],
  });
}

function check(r: RouteResult): void {
  assert.ok(r.kind === 'ok' || r.kind === 'unrouted' || (r.kind === 'rejected' && REJECT_REASONS.includes(r.reason)), JSON.stringify(r));
  if (r.kind === 'ok') {
    assert.ok(r.entry.points > 0);
    const lines = r.entry.lines.split('\n');
    assert.equal(lines.length, r.entry.points);
    for (const line of lines) assert.ok(parseLine(line).ok, line);
  }
}

describe('Sparkplug decoder fuzz', () => {
  it('random bytes on every message type: no crash, one counted outcome each', () => {
    const kit = sparkplugKit({ rebirth: true });
    kit.send('spBv1.0/g/NBIRTH/n', birth());
    let outcomes = 0;
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.uint8Array({ maxLength: 300 }), (type, bytes) => {
        check(kit.send(`spBv1.0/g/${type.replace('/', '/n/').replace(/^([A-Z]+)$/, '$1/n')}`, Buffer.from(bytes)));
        outcomes++;
      }),
      { numRuns: RUNS },
    );
    assert.equal(outcomes, RUNS);
  });

  it('valid payloads with bytes flipped, cut or appended: no crash, one counted outcome each', () => {
    const kit = sparkplugKit({ rebirth: true });
    const base = birth();
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(base.length),
        fc.uint8Array({ maxLength: 16 }),
        (type, flips, cut, tail) => {
          const bytes = Buffer.concat([Buffer.from(base), Buffer.from(tail)]);
          for (const [at, value] of flips) bytes[at] = value;
          const topic = `spBv1.0/g/${type.includes('/') ? type.replace('/', '/n/') : `${type}/n`}`;
          // Re-birth first now and then so that DATA gets to the alias resolution too.
          if (flips.length % 3 === 0) kit.send('spBv1.0/g/NBIRTH/n', base);
          check(kit.send(topic, bytes.subarray(0, Math.max(cut, bytes.length - tail.length))));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
