import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { MqttSourceGroup, type GroupMember } from '../../../src/source/MqttSourceGroup.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import type { TlsFiles } from '../../../src/tls/readTlsFiles.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

describe('MqttSourceGroup.renewTls', () => {
  it('renews one connection after the other (a share group always has members up) and counts those back in time', async () => {
    const mqtt = loadConfig({ argv: [], env: { EDGEBRIDGE_MQTT_CONNECTIONS: '3' }, hostname: 'gw' }).mqtt;
    const { logger } = memoryLogger('silent');
    const events: string[] = [];
    let index = 0;
    const group = new MqttSourceGroup({
      config: mqtt,
      router: { route: () => ({ kind: 'unrouted' }) },
      spool: {} as Spool,
      stats: Array.from({ length: 3 }, () => new SourceStats()),
      logger,
      collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
      createMember: (): GroupMember => {
        const i = index++;
        return {
          connected: true,
          start() {},
          async stop() {},
          updateSubscriptions() {},
          async renewTls(_files: TlsFiles | undefined, timeoutMs: number) {
            events.push(`begin ${i} ${timeoutMs}`);
            await new Promise((r) => setTimeout(r, 5));
            events.push(`end ${i}`);
            return i !== 1; // connection 1 is not back within the timeout
          },
        };
      },
    });
    assert.deepEqual(await group.renewTls({ rejectUnauthorized: true }, 1234), { reconnected: 2, connections: 3 });
    assert.deepEqual(events, ['begin 0 1234', 'end 0', 'begin 1 1234', 'end 1', 'begin 2 1234', 'end 2']);
  });
});
