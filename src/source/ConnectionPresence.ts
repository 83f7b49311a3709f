import type { IClientOptions, MqttClient } from 'mqtt';
import type { Subscription } from '../config/Config.ts';

export type Will = NonNullable<IClientOptions['will']>;

/**
 * Something that announces itself on one connection through the connection's own life: its MQTT Will, a birth once
 * the connection's subscriptions stand, a death on a clean stop (the Sparkplug host's STATE: HostState). MqttSource
 * calls it at those points and knows nothing of what is said.
 */
export interface ConnectionPresence {
  /** Subscribed on every connect with the configured filters (plain, never shared: this connection must get them). */
  readonly subscriptions: readonly Subscription[];
  /** The Will of the coming CONNECT, asked before each one (the first and every reconnect): it may change. */
  will(): Will;
  /** Every filter of this connection was granted (the configured ones and `subscriptions`). */
  subscribed(client: MqttClient): void;
  /** The clean stop, before DISCONNECT (which makes the broker drop the Will); resolves once acknowledged. */
  stopping(client: MqttClient): Promise<void>;
}
