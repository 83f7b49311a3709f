import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config/Config.ts';
import { SparkplugHost } from './SparkplugHost.ts';
import { SparkplugStats } from './SparkplugStats.ts';
import { SparkplugStore } from './SparkplugStore.ts';

/**
 * The Sparkplug host when a route has `format: sparkplug`; its alias maps live next to the disk spool. `commands`
 * (structural: the pipeline does not import the source) carries its Rebirth requests on the MQTT connection.
 */
export function buildSparkplugHost(
  config: Config,
  commands: { publish(topic: string, payload: Buffer): boolean },
  logger: Logger,
): SparkplugHost | undefined {
  if (!config.routes.some((r) => r.format === 'sparkplug')) return undefined;
  const c = config.sparkplug;
  return new SparkplugHost({
    stats: new SparkplugStats(),
    store: config.spool.type === 'disk' ? new SparkplugStore({ dir: join(config.spool.dir, 'sparkplug') }) : undefined,
    rebirth: c.rebirth,
    rebirthMinIntervalMs: c.rebirthMinIntervalMs,
    maxNodes: c.maxNodes,
    propertyTags: c.propertyTags,
    publish: (topic, payload) => commands.publish(topic, payload),
    onStoreError: (err) => logger.warn({ err }, 'Sparkplug alias maps not written (tried again in 5 s; the state in memory is right)'),
  });
}
