import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { statusReport } from '../../../src/health/statusReport.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { SinkStats } from '../../../src/stats/SinkStats.ts';
import { entry } from './spoolContract.ts';
import { flipByte, openSpool, readAll, recordOffsets, segmentFiles, tempDir } from './spoolTestKit.ts';

describe('spool losses in /metrics and /status', () => {
  it('records lost to corruption are counted per sink and reason, every series from 0', async () => {
    const dir = tempDir();
    let { spool } = await openSpool(dir);
    for (let i = 0; i < 100; i++) spool.append(entry(1, 0b11));
    await spool.close();
    const [seg] = segmentFiles(dir);
    flipByte(seg!, recordOffsets(seg!)[40]! + 30);
    ({ spool } = await openSpool(dir));
    readAll(spool, 0); // influx read past the bad record; redis has not read yet
    const view: GatewayView = {
      gatewayId: 'gw',
      version: '0',
      startedAt: Date.now(),
      source: new SourceStats(),
      sinks: ['influx', 'redis'].map((name, i) => ({
        stats: new SinkStats(name, name),
        backlog: () => spool.cursor(i).backlog(),
        dropped: () => spool.cursor(i).dropped(),
      })),
      spool: () => spool.stats(),
      shuttingDown: () => false,
    };
    const text = await new GatewayMetrics(view).registry.metrics();
    assert.match(text, /^edgebridge_spool_records_lost_total\{sink="influx",reason="corrupt"\} 1$/m);
    assert.match(text, /^edgebridge_spool_records_lost_total\{sink="redis",reason="corrupt"\} 0$/m);
    assert.match(text, /^edgebridge_spool_records_lost_total\{sink="influx",reason="unreadable_segment"\} 0$/m);
    assert.match(text, /^edgebridge_spool_corrupt_skipped_total 1$/m);
    assert.match(text, /^edgebridge_spool_checkpoints_repaired_total 0$/m);
    const status = statusReport(view);
    assert.deepEqual(status.spool.recordsLost, {
      influx: { corrupt: 1, unreadable_segment: 0 },
      redis: { corrupt: 0, unreadable_segment: 0 },
    });
    await spool.close();
  });
});
