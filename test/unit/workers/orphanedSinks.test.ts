import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Gateway } from '../../../src/Gateway.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { DiskSpool } from '../../../src/spool/disk/DiskSpool.ts';
import { FakeSink } from '../../fakes/FakeSink.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { entry } from '../spool/spoolContract.ts';

describe('a renamed sink', () => {
  it('its backlog in the real spool is reported loudly at start-up, counted in /status and /metrics', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-orphan-'));
    try {
      // A spool written while the sinks were "influx" and "redis": records for both, never delivered.
      const before = new DiskSpool({
        dir,
        maxBytes: 1 << 24,
        overflow: 'dropOldest',
        ack: 'write',
        fsyncIntervalMs: 200,
        segmentBytes: 1 << 20,
        checkpointIntervalMs: 1000,
        sinks: ['influx', 'redis'],
        logger: memoryLogger('silent').logger,
      });
      await before.open();
      for (let i = 0; i < 10; i++) before.append(entry(1, 0b11, Date.now()));
      before.flush();
      await before.close();

      // Now sinks.redis is disabled and the same Redis is configured as an extra sink named "cache".
      const config = loadConfig({
        argv: [],
        env: {
          EDGEBRIDGE_GATEWAY_ID: 'gw',
          EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
          EDGEBRIDGE_HTTP_PORT: '0',
          EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '500',
          EDGEBRIDGE_SPOOL_DIR: dir,
          EDGEBRIDGE_REDIS_ENABLED: 'false',
          EDGEBRIDGE_SINKS_EXTRA: JSON.stringify([{ name: 'cache', type: 'redis' }]),
        },
      });
      const { logger, lines } = memoryLogger();
      const gateway = new Gateway({ config, logger, version: 't', exit: () => {}, createSink: (c) => new FakeSink(c.name) });
      await gateway.start();
      try {
        const line = lines().find((l) => l.orphanedSink === 'redis');
        assert.ok(line, JSON.stringify(lines().map((l) => l.msg)));
        assert.equal(line.level, 50, 'error');
        assert.match(String(line.msg), /backlog for sink "redis", which is not configured/);
        assert.equal(line.segments, 1);
        const status = (await (await fetch(`http://127.0.0.1:${gateway.health.port}/status`)).json()) as {
          spool: { orphanedSinks: unknown };
        };
        assert.deepEqual(status.spool.orphanedSinks, [{ sink: 'redis', segments: 1 }]);
        const metrics = await (await fetch(`http://127.0.0.1:${gateway.health.port}/metrics`)).text();
        assert.match(metrics, /^edgebridge_spool_orphaned_segments\{sink="redis"\} 1$/m);
        assert.ok(!lines().some((l) => l.orphanedSink === 'influx'), 'influx is still configured');
      } finally {
        await gateway.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
