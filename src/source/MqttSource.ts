import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MqttConfig, Subscription } from '../config/Config.ts';
import type { CollapsingLog } from '../log/CollapsingLog.ts';
import type { RouteResult } from '../pipeline/RouteResult.ts';
import type { MessageProperties } from '../topic/MessageProperty.ts';
import type { Spool } from '../spool/Spool.ts';
import type { SessionLoss, SourceStats } from '../stats/SourceStats.ts';
import { Burst } from './Burst.ts';
import { type DoneCallback, PersistThenAck } from './PersistThenAck.ts';
import type { ConnectionPresence } from './ConnectionPresence.ts';
import type { DeadLetter } from './DeadLetter.ts';
import { ReadCoalescer } from './ReadCoalescer.ts';
import { ReconnectSchedule } from './ReconnectSchedule.ts';
import { SourceLifecycle, type SourceState } from './SourceLifecycle.ts';
import type { SessionMarker } from './SessionMarker.ts';
import { SessionWatch } from './SessionWatch.ts';
import { clientOptions } from './clientOptions.ts';
import { splitUrlCredentials } from './splitUrlCredentials.ts';
import { describeTlsError } from '../tls/describeTlsError.ts';
import type { TlsFiles } from '../tls/readTlsFiles.ts';
import { renewConnection } from './renewConnection.ts';

export interface MessageRouter {
  /** `properties`: the packet's MQTT 5 properties as mqtt.js parsed them (undefined on MQTT 3.1.1), passed as they are. */
  route(topic: string, payload: Buffer, receivedAt: number, properties: MessageProperties | undefined): RouteResult;
}

export interface MqttSourceOptions {
  readonly config: MqttConfig;
  readonly router: MessageRouter;
  readonly spool: Spool;
  readonly stats: SourceStats;
  readonly logger: Logger;
  readonly collapsed: CollapsingLog;
  /** Where rejected messages are re-published (bounded, never blocking); undefined = nowhere. */
  readonly deadLetter?: DeadLetter;
  /** The gateway's own commands to devices (Sparkplug Rebirth requests) go out on this source's connection. */
  readonly commands?: { attach(client: MqttClient): void };
  /** Announces itself on this connection: its Will, a birth once subscribed, a death at stop (the Sparkplug STATE). */
  readonly presence?: ConnectionPresence;
  /** Remembers across restarts that the broker held the session (next to the spool); undefined: only in-process. */
  readonly sessionMarker?: SessionMarker | undefined;
  readonly connect?: (url: string, options: IClientOptions) => MqttClient;
  readonly now?: () => number;
}

/**
 * The MQTT side: a persistent session by default, our own reconnect backoff, a retained online/offline status,
 * and persist-then-acknowledge: mqtt.js sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) when `handleMessage`'s
 * callback is called, which happens only after the message is in the spool, rejected with a reason, or unrouted.
 * mqtt.js hands over the next message only after that callback, so acknowledgements go out in arrival order.
 * It never unsubscribes on its own: that would discard what the broker holds for the session (a reload that removes
 * a filter does, after saying so: updateSubscriptions).
 */
export class MqttSource {
  readonly #options: MqttSourceOptions;
  readonly #now: () => number;
  readonly #lifecycle: SourceLifecycle;
  readonly #burst: Burst;
  readonly #acks: PersistThenAck;
  readonly #session: SessionWatch;
  /** When an incoming message last pushed back mqtt.js's keepalive timer (see #alive): a rate limit, not state. */
  #aliveAt = 0;
  /** What is subscribed on every connect: `config.subscriptions` until a reload changes it. */
  #subscriptions: readonly Subscription[];
  /** Filters a reload removed whose UNSUBACK has not come yet: sent again on every connect until it does. */
  readonly #unsubscribing = new Set<string>();
  /** The presence's own topics (its STATE): acknowledged even while stopping. */
  readonly #presenceTopics: ReadonlySet<string>;

  constructor(options: MqttSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const { reconnectMinMs, reconnectMaxMs } = options.config;
    this.#lifecycle = new SourceLifecycle(new ReconnectSchedule({ minMs: reconnectMinMs, maxMs: reconnectMaxMs, now: this.#now }));
    this.#burst = new Burst({ ...options, coalescer: new ReadCoalescer({ windowMs: options.config.readCoalesceMs }) });
    this.#acks = new PersistThenAck({ ...options, lifecycle: this.#lifecycle, burst: this.#burst });
    this.#subscriptions = options.config.subscriptions;
    this.#presenceTopics = new Set(options.presence?.subscriptions.map((s) => s.topic));
    const { clientId, url, clean, protocolVersion, sessionExpirySec } = options.config;
    this.#session = new SessionWatch({
      clientId,
      broker: splitUrlCredentials(url).url,
      clean,
      protocolVersion,
      sessionExpirySec,
      marker: options.sessionMarker,
      now: this.#now,
    });
  }

  /** Where the source is in its life (read-only; see SourceLifecycle). */
  get state(): SourceState {
    return this.#lifecycle.state;
  }

  get connected(): boolean {
    const state = this.#lifecycle.state;
    return state.kind === 'idle' ? false : (state.client?.connected ?? false);
  }

  start(): void {
    if (this.state.kind !== 'idle') throw new Error(`MqttSource.start: already ${this.state.kind}`);
    const { config, logger, stats, collapsed } = this.#options;
    const connect = this.#options.connect ?? mqtt.connect;
    // Credentials go as options (the config's username/password win over the URL's): see splitUrlCredentials.
    const fromUrl = splitUrlCredentials(config.url);
    const { presence } = this.#options;
    const client = connect(fromUrl.url, clientOptions(config, fromUrl, presence?.will()));
    // mqtt.js builds each CONNECT from client.options right after 'reconnect': a fresh Will for every connection.
    if (presence !== undefined) client.on('reconnect', () => (client.options.will = presence.will()));
    this.#lifecycle.on({ kind: 'start', client });
    this.#session.start();
    client.handleMessage = this.#handleMessage;
    this.#options.deadLetter?.attach(client);
    this.#options.commands?.attach(client);
    client.on('connect', (connack) => {
      // A connection made after stop(): a renewal's reconnect (mqtt.js makes it once its DISCONNECT is done, and the
      // stop's end() returns at once meanwhile). Closed at once: no 'online' status after the stop's 'offline', no
      // subscriptions; the broker sends the Will.
      if (this.#lifecycle.state.kind === 'stopped') {
        client.stream?.destroy();
        return;
      }
      this.#lifecycle.on({ kind: 'connect' });
      stats.connected = true;
      stats.connects++;
      logger.info({ url: config.url, sessionPresent: connack.sessionPresent }, 'mqtt connected');
      const loss = this.#session.connected(connack.sessionPresent);
      if (loss !== undefined) this.#sessionLost(loss);
      stats.subscriptionErrors = 0;
      if (presence === undefined) this.#subscribe(client);
      else this.#subscribe(client, [...this.#subscriptions, ...presence.subscriptions], () => presence.subscribed(client));
      this.#unsubscribe(client);
      if (config.statusTopic !== '') {
        client.publish(config.statusTopic, 'online', { qos: 1, retain: true }, (error) => {
          if (error) logger.warn({ err: error.message }, 'could not publish the online status');
        });
      }
    });
    client.on('close', () => {
      const left = this.#lifecycle.on({ kind: 'close' });
      this.#session.closed();
      const now = this.#lifecycle.state;
      if (now.kind === 'waiting') logger.debug({ delayMs: now.delayMs }, 'mqtt reconnect scheduled');
      if (left.kind === 'connected' || left.kind === 'renewing' || (left.kind === 'stopped' && left.connected)) {
        stats.disconnects++;
        if (left.kind === 'connected') logger.warn({ url: config.url }, 'mqtt disconnected');
        else logger.info({ url: config.url }, 'mqtt disconnected');
      }
      stats.connected = false;
    });
    client.on('error', (error) => {
      const message = describeTlsError(error, config.tls.label) ?? error.message;
      stats.lastError = message;
      collapsed.warn(`mqtt:${message}`, { url: config.url, err: message }, 'mqtt error');
    });
  }

  /**
   * Stops taking messages (those arriving now are left unacknowledged, so the broker redelivers them to the
   * session), publishes the retained `offline` status, and disconnects without unsubscribing. Each wait on the
   * broker takes at most 2 s and at most a quarter of what is left until `deadline` (epoch ms, shutdown.timeoutMs):
   * an unresponsive broker used to cost a fixed 4 s, past the deadline, before the sinks could drain.
   */
  async stop(deadline: number = this.#now() + 8000): Promise<void> {
    const left = this.#lifecycle.on({ kind: 'stop' });
    const client = left.kind === 'idle' ? undefined : left.client;
    if (client === undefined) return;
    const { config, logger } = this.#options;
    const budget = (): number => Math.min(2000, Math.max(0, deadline - this.#now()) / 4);
    if (client.connected && config.statusTopic !== '') {
      await withTimeout(client.publishAsync(config.statusTopic, 'offline', { qos: 1, retain: true }), budget()).catch((error: unknown) =>
        logger.warn({ err: String(error) }, 'could not publish the offline status'),
      );
    }
    const { presence } = this.#options;
    if (client.connected && presence !== undefined) {
      await withTimeout(presence.stopping(client), budget()).catch((error: unknown) =>
        logger.warn({ err: String(error) }, 'could not publish the death before disconnecting (the broker sends the Will instead)'),
      );
    }
    await withTimeout(client.endAsync(false), budget()).catch(() => client.end(true));
  }

  /**
   * Reload: `subscribe` are made now (when connected) and on every connect; `unsubscribe` are logged first — the
   * broker discards what it still holds for the session under those filters — then unsubscribed now and, until
   * the broker confirms, on every connect (a persistent session would otherwise keep them).
   */
  updateSubscriptions(next: readonly Subscription[], subscribe: readonly Subscription[], unsubscribe: readonly string[]): void {
    const { logger } = this.#options;
    this.#subscriptions = next;
    for (const topic of unsubscribe) {
      logger.warn({ topic }, 'reload: unsubscribing from a removed filter; the broker discards what it holds for it');
      this.#unsubscribing.add(topic);
    }
    for (const topic of next.map((s) => s.topic)) this.#unsubscribing.delete(topic);
    const state = this.#lifecycle.state;
    if (state.kind !== 'connected') return;
    for (const s of subscribe) logger.info({ topic: s.topic, qos: s.qos }, 'reload: subscribing to a new filter');
    this.#subscribe(state.client, subscribe);
    this.#unsubscribe(state.client);
  }

  /** Reload: reconnects at once with TLS material renewed under the same paths, the session kept (see renewConnection). */
  renewTls(files: TlsFiles | undefined, timeoutMs: number): Promise<boolean> {
    const { logger, config } = this.#options;
    return renewConnection(this.#lifecycle, files, {
      deadline: this.#now() + timeoutMs,
      now: this.#now,
      onReconnect: () => logger.info({ url: config.url }, 'reload: reconnecting with the renewed TLS material (the session is kept)'),
    });
  }

  #unsubscribe(client: MqttClient): void {
    const { logger } = this.#options;
    for (const topic of this.#unsubscribing) {
      client.unsubscribe(topic, (error) => {
        // Not confirmed (the connection closed): made again on the next connect.
        if (error) logger.info({ topic, err: error.message }, 'unsubscribe interrupted; made again on reconnect');
        else if (!this.#subscriptions.some((s) => s.topic === topic)) {
          this.#unsubscribing.delete(topic);
          logger.info({ topic }, 'unsubscribed');
        }
      });
    }
  }

  /** `granted`: called once every filter of `subscriptions` is granted on this connection. */
  #subscribe(client: MqttClient, subscriptions: readonly Subscription[] = this.#subscriptions, granted?: () => void): void {
    const { logger, stats } = this.#options;
    const connection = this.#lifecycle.connection();
    let answered = 0;
    let refused = 0;
    // Once every filter is answered on this connection: the moment messages flow again (what the reconnect bench
    // measures), and the broker holds the session from then on (the session marker).
    const answer = (ok: boolean): void => {
      answered++;
      if (!ok) refused++;
      if (answered < subscriptions.length || refused === answered) return;
      logger.info({ granted: answered - refused, refused }, 'mqtt subscribed');
      if (refused === 0) granted?.();
      this.#session
        .subscribed()
        ?.catch((error: unknown) =>
          logger.warn(
            { file: this.#options.sessionMarker?.file, err: String(error) },
            'could not write the session marker: a broker that loses the session across a gateway restart goes unnoticed',
          ),
        );
    };
    for (const s of subscriptions) {
      client.subscribe(s.topic, { qos: s.qos }, (error, granted) => {
        // mqtt.js fails pending subscriptions when the connection closes: not a refusal, they are made again on the
        // next connect (readiness already says "not connected").
        if (error && (!client.connected || connection !== this.#lifecycle.connection())) {
          logger.info({ topic: s.topic, err: error.message }, 'subscribe interrupted by the disconnect; made again on reconnect');
          return;
        }
        if (error) {
          stats.subscriptionErrors++;
          logger.error({ topic: s.topic, err: error.message }, 'subscribe failed');
        } else if (granted?.some((g) => g.qos === 128)) {
          stats.subscriptionErrors++;
          logger.error({ topic: s.topic }, 'subscription refused by the broker');
        }
        answer(!error && !granted?.some((g) => g.qos === 128));
      });
    }
  }

  /**
   * The broker answered without the session it should have held: what it queued for the gateway is gone. No client
   * can get that back; the gateway's promise is that it is never silent about a loss, so: a warning that says what
   * it means, a counter, and the last one in /status.
   */
  #sessionLost(loss: SessionLoss): void {
    const { config, logger, stats } = this.#options;
    stats.sessionsLost++;
    stats.lastSessionLoss = { ...loss, at: this.#now() };
    const fields = {
      url: config.url,
      clientId: config.clientId,
      sessionPresent: false,
      knownFrom: loss.knownFrom,
      awaySeconds: loss.awayMs === undefined ? undefined : Math.round(loss.awayMs / 100) / 10,
      sessionExpirySec: config.protocolVersion === 5 ? config.sessionExpirySec : undefined,
    };
    if (loss.reason === 'expired') {
      logger.warn(
        fields,
        "the broker ended this gateway's session: the gateway was away longer than mqtt.sessionExpirySec; messages published while it was away were dropped by the broker",
      );
    } else {
      logger.warn(
        fields,
        "the broker lost this gateway's session: messages published while the gateway was away were dropped by the broker; check the broker's persistence",
      );
    }
  }

  /** The hot path: one call per message, synchronous unless the spool is full under the block policy. */
  readonly #handleMessage = (packet: IPublishPacket, done: DoneCallback): void => {
    const state = this.#lifecycle.state;
    // Stopped: not acknowledged, redelivered to the persistent session. (idle cannot happen: set at start.) But a
    // held message holds every packet behind it, among them the PUBACK the stop waits for (the Sparkplug death, which
    // comes back to us on our own STATE topic): a QoS 0 message, never redelivered, and the presence's own topics,
    // which carry no data, are let through.
    if (state.kind === 'stopped' || state.kind === 'idle') {
      if (packet.qos === 0 || this.#presenceTopics.has(packet.topic)) done();
      return;
    }
    const { client, connection } = state;
    this.#burst.join(client.stream, packet.qos > 0);
    const { spool, stats, collapsed } = this.#options;
    if (packet.qos > 0) this.#alive(client);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    stats.received++;
    stats.receivedBytes += payload.length;
    const result = this.#route(packet.topic, payload, packet.properties);
    switch (result.kind) {
      case 'ok': {
        // A deadband route may thin some sinks: `also` (their lines) is a second record, appended right after.
        const { entry, also } = result;
        if (spool.append(entry)) {
          if (also !== undefined && !spool.append(also)) {
            this.#acks.whenWritable(also, done, connection);
            return;
          }
          stats.accepted++;
          // ack=fsync: the PUBACK waits for the fdatasync that covers this record.
          if (spool.syncBeforeAck) this.#acks.afterSync(done, connection);
          else this.#acks.release(done, client);
        } else {
          this.#acks.whenWritable(entry, done, connection, also);
        }
        return;
      }
      case 'suppressed':
        // Every value held back by the route's deadband (counted there): nothing to spool, the message is done.
        stats.accepted++;
        this.#acks.release(done, client);
        return;
      case 'unrouted':
        stats.unrouted++;
        // The presence's own STATE comes back on every connect: counted, but expected, not a warning.
        if (!this.#presenceTopics.has(packet.topic))
          collapsed.warn(`unrouted:${packet.topic}`, { topic: packet.topic }, 'message matches no route');
        this.#acks.release(done, client);
        return;
      case 'rejected':
        stats.reject(result.reason);
        collapsed.warn(
          `rejected:${result.reason}:${packet.topic}`,
          { topic: packet.topic, reason: result.reason, detail: result.detail },
          'message rejected',
        );
        this.#options.deadLetter?.offer(result.reason, result.detail, packet.topic, payload);
        this.#acks.release(done, client);
        return;
    }
  };

  /**
   * The message boundary: an exception while routing one message (a decoder's bug that some payload finds) must not
   * stop the gateway. Uncaught here it would reach mqtt.js's packet handler, kill the process, and the broker would
   * redeliver the unacknowledged message at the next start: a crash loop from one message. So the message is
   * rejected as `internal_error` (counted, dead-lettered with the error, acknowledged) and the next one is taken.
   * One try per message, around the whole route: nothing inside the decoders' loops.
   */
  #route(topic: string, payload: Buffer, properties: MessageProperties | undefined): RouteResult {
    try {
      return this.#options.router.route(topic, payload, this.#now(), properties);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.#options.collapsed.error(
        `internal_error:${detail}`,
        { topic, err: detail, stack: error instanceof Error ? error.stack : undefined },
        'handling a message threw: rejected as internal_error (a bug: please report it with this log line)',
      );
      return { kind: 'rejected', reason: 'internal_error', detail };
    }
  }

  /**
   * mqtt.js takes only acknowledgements and PINGRESP as signs that the broker is alive, not the messages it sends. Under
   * a long backlog the broker's PINGRESP waits behind thousands of messages, and after keepalive × 1.5 mqtt.js drops a
   * healthy connection ("Keepalive timeout"; the broker then redelivers what was in flight: duplicates). Found by the
   * bulk run (scripts/bulk.ts): 1 disconnect and 142 duplicates in 1 000 000 messages. A QoS 1/2 message proves the
   * connection, and the PUBACK/PUBREC that answers it is the packet the broker needs from us within the keepalive, so
   * it pushes the ping back (at most once a second: a timer reset per message would cost CPU). QoS 0 messages do
   * not: we send nothing back for them.
   */
  #alive(client: MqttClient): void {
    const now = this.#now();
    if (now - this.#aliveAt < 1000) return;
    this.#aliveAt = now;
    client.reschedulePing();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
