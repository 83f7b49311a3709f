import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/Config.ts';
import type { ConnectionView } from '../health/GatewayView.ts';
import type { CollapsingLog } from '../log/CollapsingLog.ts';
import type { Spool } from '../spool/Spool.ts';
import { SourceStats, type SourceStatsView } from '../stats/SourceStats.ts';
import { SourceStatsSum } from '../stats/SourceStatsSum.ts';
import type { CommandPublisher } from './CommandPublisher.ts';
import type { ConnectionPresence } from './ConnectionPresence.ts';
import type { DeadLetter } from './DeadLetter.ts';
import type { MessageRouter } from './MqttSource.ts';
import { MqttSourceGroup } from './MqttSourceGroup.ts';
import { retiredSessions } from './retiredSessions.ts';
import { SessionMarker } from './SessionMarker.ts';

export interface MqttSourceParts {
  readonly group: MqttSourceGroup;
  /** The figures of every connection, summed when there are several (the gateway's `view.source`). */
  readonly stats: SourceStatsView;
  /** Each connection's client id and figures (`view.connections`). */
  connections(): readonly ConnectionView[];
  /**
   * Warns about each persistent session of a client id this gateway no longer connects with (see
   * `warnRetiredSessions` below); only with a disk spool, where the session markers are.
   */
  warnRetiredSessions(): void;
}

export interface MqttSourceWiring {
  readonly config: Config;
  readonly router: MessageRouter;
  readonly spool: Spool;
  readonly logger: Logger;
  readonly collapsed: CollapsingLog;
  readonly deadLetter: DeadLetter;
  readonly commands: CommandPublisher;
  /** The gateway's own Sparkplug STATE on connection 0 (sparkplug.hostId); undefined: none. */
  readonly presence?: ConnectionPresence | undefined;
}

/**
 * The MQTT side of the gateway: `mqtt.connections` connections (MqttSourceGroup), one SourceStats each, and a
 * session marker each next to the disk spool, so that a wiped spool directory is a new installation for the
 * session check too.
 */
export function buildMqttSource(wiring: MqttSourceWiring): MqttSourceParts {
  const { config, logger } = wiring;
  // One SourceStats per MQTT connection (mqtt.connections); the view reads them summed when there are several.
  const connectionStats = Array.from({ length: config.mqtt.connections }, () => new SourceStats());
  const stats = connectionStats.length === 1 ? connectionStats[0]! : new SourceStatsSum(connectionStats);
  // One marker per connection: `mqtt-session.json` with one connection (as before), `mqtt-session-<i>.json` else.
  const { dir } = config.spool;
  const sessionMarker =
    config.spool.type === 'disk'
      ? (i: number) => new SessionMarker({ file: join(dir, sessionMarkerName(config.mqtt.connections, i)) })
      : undefined;
  const group = new MqttSourceGroup({
    config: config.mqtt,
    router: wiring.router,
    spool: wiring.spool,
    stats: connectionStats,
    logger,
    collapsed: wiring.collapsed,
    deadLetter: wiring.deadLetter,
    commands: wiring.commands,
    ...(wiring.presence === undefined ? {} : { presence: wiring.presence }),
    ...(sessionMarker === undefined ? {} : { sessionMarker }),
  });
  return {
    group,
    stats,
    connections: () =>
      group.connections.map((c) => ({
        clientId: c.clientId,
        connected: c.stats.connected,
        received: c.stats.received,
        connects: c.stats.connects,
      })),
    warnRetiredSessions: () => {
      if (config.spool.type === 'disk') warnRetiredSessions(config, group, logger);
    },
  };
}

/** The session marker file of connection `index` of `count`. */
export function sessionMarkerName(count: number, index: number): string {
  return count === 1 ? 'mqtt-session.json' : `mqtt-session-${index}.json`;
}

/**
 * A persistent session of a client id this gateway no longer connects with (mqtt.connections changed) stays at the
 * broker until it expires: in a share group it keeps taking its turn of the messages, which nobody reads; with a
 * plain filter it queues a copy of each. The gateway cannot tell what the broker still holds, so it says so.
 */
function warnRetiredSessions(config: Config, group: MqttSourceGroup, logger: Logger): void {
  const current = group.connections.map((c) => c.clientId);
  for (const r of retiredSessions(config.spool.dir, current)) {
    logger.warn(
      { clientId: r.clientId, broker: r.broker, markerFile: r.file, clientIds: current, sessionExpirySec: config.mqtt.sessionExpirySec },
      'the broker may still hold the persistent session of a client id this gateway no longer uses (mqtt.connections or mqtt.clientId changed): messages it takes (its turn of a shared subscription, or a copy of each with a plain one) wait there undelivered until the session expires; set mqtt.connections back, or end that session at the broker and delete the marker file',
    );
  }
}
