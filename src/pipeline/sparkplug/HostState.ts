import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Subscription } from '../../config/Config.ts';
import { hostStatePayload, hostStateTopic, readHostState } from './hostStateMessage.ts';

export interface HostStateOptions {
  /** `sparkplug.hostId`: the STATE is on `spBv1.0/STATE/<hostId>`. */
  readonly hostId: string;
  readonly logger: Logger;
  /** Epoch ms (tests inject a clock). */
  readonly now?: () => number;
}

/**
 * Where the STATE is in its connection's life. `timestamp` is the one of the last CONNECT's Will: the birth of that
 * connection repeats it (Sparkplug 3.0, tck-id-host-topic-phid-birth-payload-timestamp).
 */
export type HostLife =
  | { readonly kind: 'idle' }
  /** A CONNECT went (or goes) out with the Will of `timestamp`; the birth waits for every subscription. */
  | { readonly kind: 'connecting'; readonly timestamp: number }
  /** The birth of `timestamp` was published on `client`. */
  | { readonly kind: 'online'; readonly timestamp: number; readonly client: MqttClient }
  /** stop(): the death was (or could not be) published; final. */
  | { readonly kind: 'stopped' };

const QOS1_RETAINED = { qos: 1, retain: true } as const;

/**
 * The gateway's own Sparkplug host STATE (Sparkplug 3.0, chapter 4 "Sparkplug Host Application" and chapter 5
 * "Host Application Session Establishment"), so that edge nodes configured to wait for their primary host publish to it:
 *
 * - every CONNECT carries the death as its Will: `{"online":false,"timestamp":T}`, QoS 1, retained, T the time of
 *   that CONNECT (a new one for each reconnect: MqttSource asks `will()` before each);
 * - once the connection's subscriptions (the Sparkplug filters and this STATE topic) are granted, the birth
 *   `{"online":true,"timestamp":T}` with the same T, QoS 1, retained;
 * - on a clean stop the death with the time of the stop, published before the DISCONNECT (which makes the broker
 *   drop the Will);
 * - a death on its own topic delivered while online (the Will of an earlier connection the broker fired late, over
 *   the retained birth) is answered by the birth again, same T (tck-id-message-flow-hid-sparkplug-state-message-delivered).
 *
 * Timestamps only go forward: a clock stepped back must not give a birth an edge node takes for an older one.
 * Implements the source's ConnectionPresence (structurally: the pipeline does not import the source).
 */
export class HostState {
  readonly topic: string;
  readonly subscriptions: readonly Subscription[];
  readonly #options: HostStateOptions;
  readonly #now: () => number;
  #life: HostLife = { kind: 'idle' };
  /** The newest timestamp handed out. */
  #last = 0;

  constructor(options: HostStateOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.topic = hostStateTopic(options.hostId);
    this.subscriptions = [{ topic: this.topic, qos: 1 }];
  }

  get life(): HostLife {
    return this.#life;
  }

  /** The Will of the coming CONNECT: the death stamped now. */
  will(): NonNullable<IClientOptions['will']> {
    const timestamp = this.#next();
    if (this.#life.kind !== 'stopped') this.#life = { kind: 'connecting', timestamp };
    return { topic: this.topic, payload: hostStatePayload(false, timestamp), ...QOS1_RETAINED };
  }

  /** Every subscription of the connection granted: the birth, with the Will's timestamp. */
  subscribed(client: MqttClient): void {
    const life = this.#life;
    if (life.kind !== 'connecting') return;
    this.#life = { kind: 'online', timestamp: life.timestamp, client };
    this.#birth(client, life.timestamp, 'Sparkplug host STATE online');
  }

  /**
   * A message on any topic the gateway received (called for each: one string comparison unless it is ours). Only a
   * death on our own topic while online matters; our own birth coming back, a 2.x `OFFLINE` string or bad JSON
   * are left alone (they are counted unrouted like every STATE).
   */
  observe(topic: string, payload: Buffer): void {
    if (topic !== this.topic) return;
    const life = this.#life;
    if (life.kind !== 'online' || readHostState(payload)?.online !== false) return;
    this.#birth(life.client, life.timestamp, 'Sparkplug host STATE: a death on our own topic while online; birth published again');
  }

  /** The clean stop: the death stamped now, before DISCONNECT. Resolves once the broker acknowledged it. */
  async stopping(client: MqttClient): Promise<void> {
    this.#life = { kind: 'stopped' };
    if (!client.connected) return;
    const timestamp = this.#next();
    await client.publishAsync(this.topic, hostStatePayload(false, timestamp), QOS1_RETAINED);
    this.#options.logger.info({ topic: this.topic, timestamp }, 'Sparkplug host STATE offline');
  }

  #birth(client: MqttClient, timestamp: number, message: string): void {
    // Not queued while disconnected: the next connection has a Will of its own and publishes its own birth.
    if (!client.connected) return;
    const { logger } = this.#options;
    client.publish(this.topic, hostStatePayload(true, timestamp), QOS1_RETAINED, (error) => {
      if (error) logger.warn({ topic: this.topic, err: error.message }, 'could not publish the Sparkplug host STATE birth');
    });
    logger.info({ topic: this.topic, timestamp }, message);
  }

  #next(): number {
    this.#last = Math.max(this.#now(), this.#last + 1);
    return this.#last;
  }
}
