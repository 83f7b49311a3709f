import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeCommandTopic, parseSparkplugTopic } from '../../../src/topic/SparkplugTopic.ts';

describe('Sparkplug topic grammar', () => {
  it('reads node and device topics', () => {
    assert.deepEqual(parseSparkplugTopic('spBv1.0/Plant 1/NBIRTH/edge-1'), {
      kind: 'node',
      type: 'NBIRTH',
      group: 'Plant 1',
      node: 'edge-1',
    });
    assert.deepEqual(parseSparkplugTopic('spBv1.0/g/DDATA/n/pump:3'), {
      kind: 'device',
      type: 'DDATA',
      group: 'g',
      node: 'n',
      device: 'pump:3',
    });
    assert.deepEqual(parseSparkplugTopic('spBv1.0/STATE/scada-1'), { kind: 'state', host: 'scada-1' });
  });

  it('refuses what is not the namespace, with the reason', () => {
    for (const [topic, error] of [
      ['spAv1.0/g/NDATA/n', /does not start with spBv1.0/],
      ['spBv1.0/g/NDATA', /4 or 5 levels/],
      ['spBv1.0/g/NDATA/n/d/x', /4 or 5 levels/],
      ['spBv1.0/g/DDATA/n', /not a node message type/],
      ['spBv1.0/g/NDATA/n/d', /not a device message type/],
      ['spBv1.0//NDATA/n', /group_id is empty/],
      ['spBv1.0/g/DDATA/n/', /device_id is empty/],
    ] as const) {
      const t = parseSparkplugTopic(topic);
      assert.equal(t.kind, 'invalid', topic);
      if (t.kind === 'invalid') assert.match(t.error, error, topic);
    }
  });

  it('builds the NCMD topic of a node', () => {
    assert.equal(nodeCommandTopic('g', 'n'), 'spBv1.0/g/NCMD/n');
  });
});
