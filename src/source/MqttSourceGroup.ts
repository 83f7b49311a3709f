import type { MqttConfig, Subscription } from '../config/Config.ts';
import type { SourceStats } from '../stats/SourceStats.ts';
import { MqttSource, type MqttSourceOptions } from './MqttSource.ts';
import type { SessionMarker } from './SessionMarker.ts';
import { sharedTopic } from './sharedTopic.ts';
import type { TlsFiles } from '../tls/readTlsFiles.ts';

/** What the group needs of one connection's source (MqttSource; tests pass fakes). */
export interface GroupMember {
  readonly connected: boolean;
  start(): void;
  stop(deadline?: number): Promise<void>;
  updateSubscriptions(next: readonly Subscription[], subscribe: readonly Subscription[], unsubscribe: readonly string[]): void;
  /** Renewed TLS material (see MqttSource.renewTls); absent in fakes that do not need it. */
  renewTls?(files: TlsFiles | undefined, timeoutMs: number): Promise<boolean>;
}

export interface MqttSourceGroupOptions extends Omit<MqttSourceOptions, 'stats' | 'sessionMarker'> {
  /** One SourceStats per connection (`config.connections` of them): the gateway's view sums them. */
  readonly stats: readonly SourceStats[];
  /** The session marker of connection `index` (undefined: only in-process). */
  readonly sessionMarker?: (index: number) => SessionMarker | undefined;
  readonly createMember?: (options: MqttSourceOptions) => GroupMember;
}

/** One connection of the group: its client id and its figures. */
export interface GroupConnection {
  readonly clientId: string;
  readonly stats: SourceStats;
}

/**
 * `mqtt.connections` MQTT connections of one gateway, each an MqttSource of its own (its client, session, reconnect
 * backoff and session watch), all feeding the same router and spool. With more than one, every connection subscribes
 * the filters as `$share/<clientId>/<filter>` under the client id `<clientId>-<i>`, so the broker hands each message
 * to one of them. Why: mqtt.js hands over a connection's next message only after the previous one is acknowledged,
 * so with spool.ack=fsync one connection is one message per fdatasync; N connections put N messages under each
 * group commit (GroupSync). Connection 0 carries what is the gateway's, not a connection's: the retained status
 * topic and its will, the dead-letter and Sparkplug command publishing, and a presence (the Sparkplug host STATE:
 * one Will and one birth per gateway; a Sparkplug route keeps the gateway at one connection anyway).
 *
 * With one connection nothing changes: the configured client id and filters, as before this group existed.
 */
export class MqttSourceGroup {
  readonly connections: readonly GroupConnection[];
  readonly #options: MqttSourceGroupOptions;
  readonly #members: readonly GroupMember[];

  constructor(options: MqttSourceGroupOptions) {
    this.#options = options;
    const { config, stats } = options;
    if (stats.length !== config.connections)
      throw new RangeError(`MqttSourceGroup: ${stats.length} stats for ${config.connections} connections`);
    const create = options.createMember ?? ((o: MqttSourceOptions) => new MqttSource(o));
    const configs = stats.map((_, i) => connectionConfig(config, i));
    this.connections = configs.map((c, i) => ({ clientId: c.clientId, stats: stats[i]! }));
    this.#members = configs.map((c, i) => {
      const { stats: _stats, sessionMarker, createMember: _create, deadLetter, commands, presence, ...rest } = options;
      return create({
        ...rest,
        config: c,
        stats: stats[i]!,
        sessionMarker: sessionMarker?.(i),
        ...(i === 0 && deadLetter !== undefined ? { deadLetter } : {}),
        ...(i === 0 && commands !== undefined ? { commands } : {}),
        ...(i === 0 && presence !== undefined ? { presence } : {}),
      });
    });
  }

  /** Every connection is up. */
  get connected(): boolean {
    return this.#members.every((m) => m.connected);
  }

  start(): void {
    for (const m of this.#members) m.start();
  }

  /** All connections at once: each leaves what arrives now unacknowledged, for the broker to redeliver. */
  async stop(deadline?: number): Promise<void> {
    await Promise.all(this.#members.map((m) => m.stop(deadline)));
  }

  /** A reload's subscription changes, on every connection (shared there as at start). */
  updateSubscriptions(next: readonly Subscription[], subscribe: readonly Subscription[], unsubscribe: readonly string[]): void {
    const { config } = this.#options;
    const share = (s: Subscription): Subscription => ({ ...s, topic: shareOf(config, s.topic) });
    for (const m of this.#members)
      m.updateSubscriptions(
        next.map(share),
        subscribe.map(share),
        unsubscribe.map((t) => shareOf(config, t)),
      );
  }

  /**
   * A reload's renewed TLS material, one connection after the other: each reconnects (its session kept) only once the
   * one before is back, so a share group always has members connected. Says how many reconnected with it within
   * `timeoutMs` each (the others take it on their next attempt).
   */
  async renewTls(files: TlsFiles | undefined, timeoutMs: number): Promise<{ readonly reconnected: number; readonly connections: number }> {
    let reconnected = 0;
    for (const m of this.#members) if (await m.renewTls?.(files, timeoutMs)) reconnected++;
    return { reconnected, connections: this.#members.length };
  }
}

function shareOf(config: MqttConfig, topic: string): string {
  return config.connections === 1 ? topic : sharedTopic(topic, config.clientId);
}

/** Connection `index`'s MQTT settings: with one connection the configured ones. */
export function connectionConfig(config: MqttConfig, index: number): MqttConfig {
  if (config.connections === 1) return config;
  return {
    ...config,
    clientId: `${config.clientId}-${index}`,
    subscriptions: config.subscriptions.map((s) => ({ ...s, topic: shareOf(config, s.topic) })),
    // One retained status and one will per gateway: the others would say "offline" while the gateway is up.
    statusTopic: index === 0 ? config.statusTopic : '',
  };
}
