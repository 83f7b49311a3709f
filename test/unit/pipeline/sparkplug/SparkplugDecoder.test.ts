import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RouteResult } from '../../../../src/pipeline/RouteResult.ts';
import { SparkplugStore } from '../../../../src/pipeline/sparkplug/SparkplugStore.ts';
import { DataType } from '../../../../src/sparkplug/DataType.ts';
import { decodePayload, type Payload } from '../../../../src/sparkplug/SparkplugCodec.ts';
import { RECEIVED, RECEIVED_US, sparkplugKit, TAGS } from './sparkplugKit.ts';

const T = 1486144502122; // the specification's example timestamp (ms)
const NBIRTH = 'spBv1.0/plant/NBIRTH/edge1';
const NDATA = 'spBv1.0/plant/NDATA/edge1';
const NDEATH = 'spBv1.0/plant/NDEATH/edge1';

function reason(r: RouteResult): string {
  if (r.kind !== 'rejected') assert.fail(`expected a rejection, got ${JSON.stringify(r)}`);
  return r.reason;
}

/** An NBIRTH after the specification's example (6.4.18): bdSeq, node controls, properties, a float with a unit. */
function specBirth(seq = 0, bdSeq = 0): Record<string, unknown> {
  return {
    timestamp: T,
    seq,
    metrics: [
      { name: 'bdSeq', timestamp: T, datatype: DataType.UInt64, long_value: bdSeq },
      { name: 'Node Control/Reboot', timestamp: T, datatype: DataType.Boolean, boolean_value: false },
      { name: 'Node Control/Rebirth', timestamp: T, datatype: DataType.Boolean, boolean_value: false },
      { name: 'Properties/Hardware Make', timestamp: T, datatype: DataType.String, string_value: 'Raspberry Pi' },
      {
        name: 'Supply Voltage',
        alias: 1,
        timestamp: T,
        datatype: DataType.Float,
        float_value: 12.1,
        properties: { keys: ['engUnit'], values: [{ type: DataType.String, string_value: 'V' }] },
      },
      { name: 'Counter', alias: 2, timestamp: T, datatype: DataType.Int32, int_value: 5 },
    ],
  };
}

describe('Sparkplug B host (format sparkplug)', () => {
  it('writes the specification’s NBIRTH example: one point per timestamp and unit, and an online status', () => {
    const kit = sparkplugKit();
    assert.deepEqual(kit.lines(NBIRTH, specBirth()), [
      `sparkplug,${TAGS} Counter=5i,Node\\ Control/Rebirth=F,Node\\ Control/Reboot=F,Properties/Hardware\\ Make="Raspberry Pi",bdSeq=0u ${T * 1000}`,
      `sparkplug,device=plant/edge1,engUnit=V,gateway=edge-01,group=plant,node=edge1 Supply\\ Voltage=12.1 ${T * 1000}`,
      `sparkplug_status,${TAGS} bdSeq=0u,event="NBIRTH",online=T ${RECEIVED_US}`,
    ]);
    assert.equal(kit.stats.nodesOnline, 1);
  });

  it('resolves aliases from the BIRTH, with its datatype and properties (engUnit as a tag)', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, specBirth());
    assert.deepEqual(
      kit.lines(NDATA, {
        timestamp: T + 1000,
        seq: 1,
        metrics: [
          { alias: 1, float_value: 12.3 },
          { alias: 2, int_value: 6 },
        ],
      }),
      [
        `sparkplug,device=plant/edge1,engUnit=V,gateway=edge-01,group=plant,node=edge1 Supply\\ Voltage=12.3 ${(T + 1000) * 1000}`,
        `sparkplug,${TAGS} Counter=6i ${(T + 1000) * 1000}`,
      ],
    );
    // Metrics by name (a node that uses no aliases) resolve too.
    assert.deepEqual(kit.lines(NDATA, { timestamp: T + 2000, seq: 2, metrics: [{ name: 'Counter', int_value: 7 }] }), [
      `sparkplug,${TAGS} Counter=7i ${(T + 2000) * 1000}`,
    ]);
  });

  it('writes every scalar datatype as the specification carries it: signed by width, unsigned as such, exact 64 bits', () => {
    const kit = sparkplugKit();
    const metrics: [string, number, Record<string, unknown>, string][] = [
      ['i8', DataType.Int8, { int_value: 0xffffff80 }, '-128i'],
      ['i16', DataType.Int16, { int_value: 0xffff8000 }, '-32768i'],
      ['i32', DataType.Int32, { int_value: 0x80000000 }, '-2147483648i'],
      ['i64', DataType.Int64, { long_value: '9223372036854775808' }, '-9223372036854775808i'],
      ['u8', DataType.UInt8, { int_value: 255 }, '255u'],
      ['u16', DataType.UInt16, { int_value: 65535 }, '65535u'],
      ['u32', DataType.UInt32, { int_value: 4294967295 }, '4294967295u'],
      ['u64', DataType.UInt64, { long_value: '18446744073709551615' }, '18446744073709551615u'],
      ['f', DataType.Float, { float_value: 0.1 }, '0.1'],
      ['d', DataType.Double, { double_value: 0.1 }, '0.1'],
      ['b', DataType.Boolean, { boolean_value: true }, 'T'],
      ['s', DataType.String, { string_value: 'a "quoted"\nline' }, '"a \\"quoted\\"\\nline"'],
      ['t', DataType.Text, { string_value: 'long text' }, '"long text"'],
      ['u', DataType.UUID, { string_value: '0f8fad5b-d9cb-469f-a165-70867728950e' }, '"0f8fad5b-d9cb-469f-a165-70867728950e"'],
      ['dt', DataType.DateTime, { long_value: T }, `${T}i`],
    ];
    const birth = {
      timestamp: T,
      seq: 0,
      metrics: [
        { name: 'bdSeq', datatype: DataType.UInt64, long_value: 0 },
        ...metrics.map(([name, datatype, value], i) => ({ name, alias: i + 1, datatype, ...value })),
      ],
    };
    kit.send(NBIRTH, birth);
    const [line] = kit.lines(NDATA, { timestamp: T, seq: 1, metrics: metrics.map(([, , value], i) => ({ alias: i + 1, ...value })) });
    const expected = metrics
      .toSorted((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, , , text]) => `${name}=${text}`)
      .join(',');
    assert.equal(line, `sparkplug,${TAGS} ${expected} ${T * 1000}`);
  });

  it('skips and counts Bytes, File, nulls and NaN; the rest of the message is written', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, {
      timestamp: T,
      seq: 0,
      metrics: [
        { name: 'blob', alias: 1, datatype: DataType.Bytes, bytes_value: Buffer.from([1, 2]) },
        { name: 'file', alias: 2, datatype: DataType.File, bytes_value: Buffer.from('x') },
        { name: 'gone', alias: 3, datatype: DataType.Double, is_null: true },
        { name: 'nan', alias: 4, datatype: DataType.Double, double_value: Number.NaN },
        { name: 'ok', alias: 5, datatype: DataType.Double, double_value: 1 },
      ],
    });
    assert.deepEqual(Object.fromEntries([...kit.stats.skipped].filter(([, n]) => n > 0)), { bytes: 2, null: 1, not_finite: 1 });
    // A message of nothing but skipped metrics is refused as no_fields (counted, dead-lettered), not dropped.
    assert.equal(reason(kit.send(NDATA, { seq: 1, metrics: [{ alias: 3, is_null: true }] })), 'no_fields');
  });

  it('flattens DataSets (name/row/column) and template instances (name/member); definitions are skipped', () => {
    const kit = sparkplugKit();
    const lines = kit.lines(NBIRTH, {
      timestamp: T,
      seq: 0,
      metrics: [
        {
          name: 'Table',
          alias: 1,
          datatype: DataType.DataSet,
          dataset_value: {
            num_of_columns: 2,
            columns: ['Int32s', 'Strings'],
            types: [DataType.Int32, DataType.String],
            rows: [{ elements: [{ int_value: 0 }, { string_value: 'a' }] }, { elements: [{ int_value: 1 }, { string_value: 'b' }] }],
          },
        },
        {
          name: 'Motor Type',
          datatype: DataType.Template,
          template_value: { is_definition: true, metrics: [{ name: 'RPMs', datatype: DataType.Int32 }] },
        },
        {
          name: 'Motor 1',
          alias: 2,
          datatype: DataType.Template,
          template_value: {
            template_ref: 'Motor Type',
            metrics: [
              { name: 'RPMs', datatype: DataType.Int32, int_value: 123 },
              {
                name: 'Inner',
                datatype: DataType.Template,
                template_value: { metrics: [{ name: 'Temp', datatype: DataType.Float, float_value: 40.5 }] },
              },
            ],
          },
        },
      ],
    });
    assert.equal(
      lines[0],
      `sparkplug,${TAGS} Motor\\ 1/Inner/Temp=40.5,Motor\\ 1/RPMs=123i,Table/0/Int32s=0i,Table/0/Strings="a",Table/1/Int32s=1i,Table/1/Strings="b" ${T * 1000}`,
    );
    assert.equal(kit.stats.skipped.get('definition'), 1);
  });

  it('unpacks Sparkplug 3.0 arrays into name/index fields', () => {
    const kit = sparkplugKit();
    const i16 = Buffer.alloc(4);
    i16.writeInt16LE(-2, 0);
    i16.writeInt16LE(300, 2);
    const bools = Buffer.from([3, 0, 0, 0, 0b10100000]); // count 3: true, false, true
    const strings = Buffer.from('ab\u0000c\u0000');
    const [line] = kit.lines(NBIRTH, {
      timestamp: T,
      seq: 0,
      metrics: [
        { name: 'i', alias: 1, datatype: DataType.Int16Array, bytes_value: i16 },
        { name: 'b', alias: 2, datatype: DataType.BooleanArray, bytes_value: bools },
        { name: 's', alias: 3, datatype: DataType.StringArray, bytes_value: strings },
      ],
    });
    assert.equal(line, `sparkplug,${TAGS} b/0=T,b/1=F,b/2=T,i/0=-2i,i/1=300i,s/0="ab",s/1="c" ${T * 1000}`);
  });

  it('writes historical metrics at their own timestamps', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, specBirth());
    const lines = kit.lines(NDATA, {
      timestamp: T + 5000,
      seq: 1,
      metrics: [
        { alias: 2, int_value: 1, timestamp: T + 1000, is_historical: true },
        { alias: 2, int_value: 2, timestamp: T + 2000, is_historical: true },
        { alias: 2, int_value: 3 },
      ],
    });
    assert.deepEqual(lines, [
      `sparkplug,${TAGS} Counter=1i ${(T + 1000) * 1000}`,
      `sparkplug,${TAGS} Counter=2i ${(T + 2000) * 1000}`,
      `sparkplug,${TAGS} Counter=3i ${(T + 5000) * 1000}`,
    ]);
  });

  it('tracks seq per node, wrapping 255 → 0, over node and device messages', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, specBirth(250));
    kit.lines('spBv1.0/plant/DBIRTH/edge1/pump', {
      seq: 251,
      metrics: [{ name: 'rpm', alias: 1, datatype: DataType.Double, double_value: 1 }],
    });
    for (let seq = 252; seq < 262; seq++) {
      const topic = seq % 2 === 0 ? NDATA : 'spBv1.0/plant/DDATA/edge1/pump';
      const value = seq % 2 === 0 ? { alias: 2, int_value: seq } : { alias: 1, double_value: seq };
      const r = kit.send(topic, { seq: seq % 256, metrics: [value] });
      assert.equal(r.kind, 'ok', `seq ${seq % 256}: ${JSON.stringify(r)}`);
    }
  });

  it('refuses a message after a gap (sparkplug_seq_gap) and resynchronises on it', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, specBirth());
    kit.lines(NDATA, { seq: 1, metrics: [{ alias: 2, int_value: 1 }] });
    const gap = kit.send(NDATA, { seq: 3, metrics: [{ alias: 2, int_value: 3 }] });
    assert.equal(reason(gap), 'sparkplug_seq_gap');
    assert.match(gap.kind === 'rejected' ? gap.detail : '', /seq 3 after 1 \(expected 2\): 1 message/);
    assert.equal(kit.send(NDATA, { seq: 4, metrics: [{ alias: 2, int_value: 4 }] }).kind, 'ok');
    // A repeat (QoS 1 redelivery) is out of order too.
    assert.equal(reason(kit.send(NDATA, { seq: 4, metrics: [{ alias: 2, int_value: 4 }] })), 'sparkplug_seq_gap');
  });

  it('refuses data before a BIRTH and unknown aliases; Rebirth requests only when enabled, rate-limited per node', () => {
    const off = sparkplugKit();
    assert.equal(reason(off.send(NDATA, { seq: 1, metrics: [{ alias: 1, int_value: 1 }] })), 'sparkplug_no_birth');
    assert.equal(off.published.length, 0);
    assert.equal(off.stats.rebirthsSuppressed, 1);

    const kit = sparkplugKit({ rebirth: true, rebirthMinIntervalMs: 60_000 });
    assert.equal(reason(kit.send(NDATA, { seq: 1, metrics: [{ alias: 1, int_value: 1 }] })), 'sparkplug_no_birth');
    assert.equal(kit.published.length, 1);
    const [topic, payload] = kit.published[0]!;
    assert.equal(topic, 'spBv1.0/plant/NCMD/edge1');
    const cmd = decodePayload(payload) as Payload;
    assert.equal(cmd.metrics[0]!.name, 'Node Control/Rebirth');
    assert.equal(cmd.metrics[0]!.boolean_value, true);
    assert.equal(cmd.metrics[0]!.datatype, DataType.Boolean);
    // A node never born that keeps sending: one request per interval, not one per message.
    assert.equal(reason(kit.send(NDATA, { seq: 2, metrics: [{ alias: 1, int_value: 1 }] })), 'sparkplug_no_birth');
    assert.equal(kit.published.length, 1);

    kit.send(NBIRTH, specBirth());
    // The interval holds across the BIRTH that answered the request.
    assert.equal(reason(kit.send(NDATA, { seq: 1, metrics: [{ alias: 99, int_value: 1 }] })), 'sparkplug_unknown_alias');
    assert.equal(kit.published.length, 1);
    kit.clock.now += 60_000;
    assert.equal(reason(kit.send(NDATA, { seq: 2, metrics: [{ alias: 99, int_value: 1 }] })), 'sparkplug_unknown_alias');
    assert.equal(reason(kit.send(NDATA, { seq: 4, metrics: [{ alias: 2, int_value: 1 }] })), 'sparkplug_seq_gap');
    assert.equal(kit.published.length, 2, 'the second request within the interval is suppressed');
    kit.clock.now += 60_000;
    assert.equal(reason(kit.send(NDATA, { seq: 6, metrics: [{ alias: 2, int_value: 1 }] })), 'sparkplug_seq_gap');
    assert.equal(kit.published.length, 3);
    assert.equal(kit.stats.rebirthsSent, 3);
    // After the rebirth the node's data is read again.
    kit.send(NBIRTH, specBirth());
    assert.equal(kit.send(NDATA, { seq: 1, metrics: [{ alias: 2, int_value: 1 }] }).kind, 'ok');
  });

  it('NDEATH with the NBIRTH’s bdSeq marks the node and its devices offline; a stale one is refused', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, specBirth(0, 3));
    kit.lines('spBv1.0/plant/DBIRTH/edge1/pump', {
      seq: 1,
      metrics: [{ name: 'rpm', alias: 1, datatype: DataType.Double, double_value: 1 }],
    });
    assert.equal(
      reason(kit.send(NDEATH, { metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: 2 }] })),
      'sparkplug_stale_death',
    );
    assert.deepEqual(kit.lines(NDEATH, { metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: 3 }] }, RECEIVED + 5), [
      `sparkplug_status,${TAGS} bdSeq=3u,event="NDEATH",online=F ${(RECEIVED + 5) * 1000}`,
      `sparkplug_status,device=plant/edge1/pump,gateway=edge-01,group=plant,node=edge1 event="NDEATH",online=F ${(RECEIVED + 5) * 1000}`,
    ]);
    assert.equal(kit.stats.nodesOnline, 0);
    assert.equal(reason(kit.send(NDATA, { seq: 2, metrics: [{ alias: 2, int_value: 1 }] })), 'sparkplug_no_birth');
    assert.equal(
      reason(kit.send(NDEATH, { metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: 3 }] })),
      'sparkplug_stale_death',
    );
  });

  it('DDEATH marks one device offline; its data is refused until its DBIRTH', () => {
    const kit = sparkplugKit();
    kit.send(NBIRTH, specBirth());
    kit.send('spBv1.0/plant/DBIRTH/edge1/pump', {
      seq: 1,
      metrics: [{ name: 'rpm', alias: 1, datatype: DataType.Double, double_value: 1 }],
    });
    assert.deepEqual(kit.lines('spBv1.0/plant/DDEATH/edge1/pump', { seq: 2, metrics: [] }), [
      `sparkplug_status,device=plant/edge1/pump,gateway=edge-01,group=plant,node=edge1 event="DDEATH",online=F ${RECEIVED_US}`,
    ]);
    assert.equal(
      reason(kit.send('spBv1.0/plant/DDATA/edge1/pump', { seq: 3, metrics: [{ alias: 1, double_value: 2 }] })),
      'sparkplug_no_birth',
    );
    assert.equal(kit.send(NDATA, { seq: 4, metrics: [{ alias: 2, int_value: 1 }] }).kind, 'ok', 'the node itself is still online');
  });

  it('counts commands and STATE as unrouted (not data), and refuses bad topics and payloads', () => {
    const kit = sparkplugKit();
    assert.equal(kit.send('spBv1.0/plant/NCMD/edge1', { metrics: [] }).kind, 'unrouted');
    assert.equal(kit.send('spBv1.0/plant/DCMD/edge1/pump', { metrics: [] }).kind, 'unrouted');
    assert.equal(kit.send('spBv1.0/STATE/scada', Buffer.from('{"online":true,"timestamp":1}')).kind, 'unrouted');
    assert.equal(reason(kit.send('spBv1.0/plant/XDATA/edge1', { metrics: [] })), 'bad_sparkplug');
    assert.equal(reason(kit.send(NBIRTH, Buffer.from('{"not":"protobuf"}'))), 'bad_sparkplug');
    assert.equal(
      reason(kit.send(NBIRTH, { seq: 0, metrics: [{ alias: 1, datatype: DataType.Int32, int_value: 1 }] })),
      'bad_sparkplug',
      'a BIRTH metric needs a name',
    );
    assert.equal(reason(kit.send(NBIRTH, { seq: 300, metrics: [] })), 'bad_sparkplug', 'seq is 0-255');
    assert.equal(reason(kit.send(NBIRTH, { timestamp: '9007199254740993', seq: 0, metrics: [] })), 'bad_time');
  });

  it('refuses an oversized DataSet as too_many_fields', () => {
    const kit = sparkplugKit();
    const rows = Array.from({ length: 600 }, (_, i) => ({ elements: [{ int_value: i }, { int_value: i }] }));
    const r = kit.send(NBIRTH, {
      seq: 0,
      metrics: [{ name: 'big', alias: 1, datatype: DataType.DataSet, dataset_value: { columns: ['a', 'b'], types: [3, 3], rows } }],
    });
    assert.equal(reason(r), 'too_many_fields');
  });

  describe('alias maps across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eb-sparkplug-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('are kept in the journal next to the spool and read back by a new host', async () => {
      const first = sparkplugKit({ store: new SparkplugStore({ dir }) });
      first.host.start();
      first.send(NBIRTH, specBirth(0, 5));
      first.send('spBv1.0/plant/DBIRTH/edge1/pump', {
        seq: 1,
        metrics: [{ name: 'rpm', alias: 1, datatype: DataType.Double, double_value: 1 }],
      });
      await first.host.stop(); // the gateway's stop: what is pending is written
      assert.deepEqual(readdirSync(dir), ['nodes.jsonl']);

      const second = sparkplugKit({ store: new SparkplugStore({ dir }) });
      assert.deepEqual(second.host.start(), []);
      assert.equal(second.stats.nodesOnline, 1);
      // No BIRTH since the restart: the aliases, units and the device are known; seq restarts from what arrives.
      assert.deepEqual(second.lines(NDATA, { timestamp: T, seq: 17, metrics: [{ alias: 1, float_value: 11.5 }] }), [
        `sparkplug,device=plant/edge1,engUnit=V,gateway=edge-01,group=plant,node=edge1 Supply\\ Voltage=11.5 ${T * 1000}`,
      ]);
      assert.equal(second.send('spBv1.0/plant/DDATA/edge1/pump', { seq: 18, metrics: [{ alias: 1, double_value: 2 }] }).kind, 'ok');
      // The bdSeq survives too: the death of this session is recognised.
      assert.equal(second.send(NDEATH, { metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: 5 }] }).kind, 'ok');
      await second.host.stop();
    });
  });
});
