import type { MqttClient } from 'mqtt';
import type { ReconnectSchedule } from './ReconnectSchedule.ts';

type Timer = ReturnType<typeof setTimeout>;
export type SourceEvent =
  | { readonly kind: 'start'; readonly client: MqttClient }
  | { readonly kind: 'connect' | 'close' | 'retry' | 'stop' | 'renew' };

/**
 * Where the source is in its life. Every state after `idle` holds the client (one for the source's life: mqtt.js
 * reconnects it) and `connection`, which numbers its connections and goes up on every close: a message whose
 * acknowledgement is held (block policy, ack=fsync) must not be acknowledged on a later connection than its own.
 * Changed only by SourceLifecycle.on.
 */
export type SourceState =
  | { readonly kind: 'idle' }
  /** Connecting, or connected before mqtt.js has replayed its outgoing store and said so: messages may arrive. */
  | { readonly kind: 'connecting'; readonly client: MqttClient; readonly connection: number }
  | { readonly kind: 'connected'; readonly client: MqttClient; readonly connection: number }
  /**
   * Connected, and closing on purpose to connect again at once with renewed TLS material (mqtt.js's `reconnect()`:
   * DISCONNECT, then a new connection). Its close is not an outage: no reconnect delay.
   */
  | { readonly kind: 'renewing'; readonly client: MqttClient; readonly connection: number }
  /** Disconnected; `timer` reconnects after the ReconnectSchedule's delay, `delayMs`. */
  | { readonly kind: 'waiting'; readonly client: MqttClient; readonly connection: number; readonly timer: Timer; readonly delayMs: number }
  /**
   * stop() was called (final): messages are left unacknowledged. `client` is undefined if it was never started;
   * `connected` says whether the coming close is a disconnect to count.
   */
  | { readonly kind: 'stopped'; readonly client: MqttClient | undefined; readonly connection: number; readonly connected: boolean };

/**
 * MqttSource's state machine, after cockatiel's CircuitBreakerPolicy: one tagged union, switched on its kind, and
 * one method that changes it. It owns the reconnect timer (mqtt.js's own reconnect is off): a close schedules
 * `client.reconnect()` after the ReconnectSchedule's delay, a connect tells the schedule (a connection that stays up
 * resets it).
 */
export class SourceLifecycle {
  readonly #schedule: ReconnectSchedule;
  #state: SourceState = { kind: 'idle' };

  constructor(schedule: ReconnectSchedule) {
    this.#schedule = schedule;
  }

  get state(): SourceState {
    return this.#state;
  }

  /**
   * The transitions: the only writer of #state. Returns the state left, from which the caller decides what to log.
   *   idle ─start→ connecting ─connect→ connected ─close→ waiting ─retry→ connecting   (connecting ─close→ waiting)
   *   connected ─renew→ renewing ─close→ connecting (the caller has called client.reconnect(), which connects)
   *   any ─stop→ stopped: final; a connect or close there only updates `connected` and `connection`.
   */
  on(event: SourceEvent): SourceState {
    const s = this.#state;
    if (event.kind === 'start' && s.kind !== 'idle') throw new Error(`MqttSource.start: already ${s.kind}`);
    if (event.kind === 'connect') this.#schedule.connected();
    if (s.kind === 'waiting' && event.kind !== 'retry') clearTimeout(s.timer);
    switch (s.kind) {
      case 'idle':
        if (event.kind === 'start') this.#state = { kind: 'connecting', client: event.client, connection: 0 };
        if (event.kind === 'stop') this.#state = { kind: 'stopped', client: undefined, connection: 0, connected: false };
        return s;
      case 'stopped':
        if (event.kind === 'connect') this.#state = { ...s, connected: true };
        if (event.kind === 'close') this.#state = { ...s, connection: s.connection + 1, connected: false };
        return s;
    }
    const { client, connection } = s;
    switch (event.kind) {
      case 'start': // refused above
        break;
      case 'connect': // from waiting too, though mqtt.js has no stream there to connect on
        this.#state = { kind: 'connected', client, connection };
        break;
      case 'close': {
        if (s.kind === 'renewing') {
          this.#state = { kind: 'connecting', client, connection: connection + 1 };
          break;
        }
        const delayMs = this.#schedule.next();
        const timer = setTimeout(() => this.on({ kind: 'retry' }), delayMs);
        this.#state = { kind: 'waiting', client, connection: connection + 1, timer, delayMs };
        break;
      }
      case 'retry':
        if (s.kind !== 'waiting') break;
        this.#state = { kind: 'connecting', client, connection };
        client.reconnect();
        break;
      case 'renew':
        if (s.kind === 'connected') this.#state = { kind: 'renewing', client, connection };
        break;
      case 'stop':
        this.#state = { kind: 'stopped', client, connection, connected: s.kind === 'connected' || s.kind === 'renewing' };
        break;
    }
    return s;
  }

  /** The number of the connection messages arrive on now (-1 before start). */
  connection(): number {
    return this.#state.kind === 'idle' ? -1 : this.#state.connection;
  }

  /** A held acknowledgement may still go out: its connection is the current one and stop() was not called. */
  holds(connection: number): boolean {
    const s = this.#state;
    return (
      (s.kind === 'connecting' || s.kind === 'connected' || s.kind === 'renewing' || s.kind === 'waiting') && s.connection === connection
    );
  }
}
