import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../src/log/CollapsingLog.ts';
import type { MqttSourceOptions } from '../../src/source/MqttSource.ts';
import type { Spool } from '../../src/spool/Spool.ts';
import { SourceStats } from '../../src/stats/SourceStats.ts';

/**
 * MqttSource's options for a unit test: the default MQTT config (plus `env`), a router that routes nothing, a spool
 * that takes everything, and `client` as the one mqtt.js client it connects.
 */
export function mqttSourceOptions(
  client: object,
  logger: Logger,
  extra: { readonly stats?: SourceStats; readonly env?: Record<string, string> } = {},
): MqttSourceOptions {
  return {
    config: loadConfig({ argv: [], env: extra.env ?? {}, hostname: 'gw' }).mqtt,
    router: { route: () => ({ kind: 'unrouted' }) },
    spool: { append: () => true, syncBeforeAck: false } as unknown as Spool,
    stats: extra.stats ?? new SourceStats(),
    logger,
    collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    connect: () => client as unknown as MqttClient,
  };
}
