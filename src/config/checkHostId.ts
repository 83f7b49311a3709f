import { FormatError } from '../errors/FormatError.ts';
import type { ConfigValues } from './Config.ts';
import { envNameFor } from './schema.ts';

/** How to empty a key: `set EDGEBRIDGE_X="" or "x": "" in the config file`. */
const clear = (key: string): string => `set ${envNameFor(key)}="" or "${key}": "" in the config file`;

/**
 * `sparkplug.hostId` across keys. A STATE tells edge nodes "your primary host reads you": without a Sparkplug route
 * nothing would. Its death is the MQTT Will of the connection that receives the Sparkplug data (so it fires when
 * that connection is lost), and MQTT gives a connection one Will — the one `mqtt.statusTopic` holds otherwise. A
 * status topic without its Will would stay "online" after a crash, so the two are not silently combined: the
 * operator chooses (the STATE itself says online/offline, retained).
 */
export function checkHostId(values: ConfigValues): void {
  const { hostId } = values.sparkplug;
  if (hostId === '') return;
  if (!values.routes.some((r) => r.format === 'sparkplug')) {
    throw new FormatError({
      path: 'sparkplug.hostId',
      value: hostId,
      expected: '"" when no route has format sparkplug: the STATE would tell edge nodes to publish to a host that reads none of it',
      fix: `add a route with "format": "sparkplug" (as in config/routes/sparkplug.json); or ${clear('sparkplug.hostId')}`,
    });
  }
  if (values.mqtt.statusTopic !== '') {
    throw new FormatError({
      path: 'mqtt.statusTopic',
      value: values.mqtt.statusTopic,
      expected: `"" while sparkplug.hostId is set ("${hostId}"): the STATE's death is the connection's MQTT Will, and a connection has one`,
      fix: `${clear('mqtt.statusTopic')}, spBv1.0/STATE/${hostId} then says online/offline; or leave sparkplug.hostId empty`,
    });
  }
}
