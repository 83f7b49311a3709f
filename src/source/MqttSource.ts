import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MqttConfig } from '../config/Config.ts';
import type { CollapsingLog } from '../log/CollapsingLog.ts';
import type { RouteResult } from '../pipeline/RouteResult.ts';
import type { Entry } from '../spool/Entry.ts';
import type { Spool } from '../spool/Spool.ts';
import type { SourceStats } from '../stats/SourceStats.ts';
import type { DeadLetter } from './DeadLetter.ts';
import { ReconnectSchedule } from './ReconnectSchedule.ts';
import { splitUrlCredentials, type UrlCredentials } from './splitUrlCredentials.ts';
import { describeTlsError } from '../tls/describeTlsError.ts';

export interface MessageRouter {
  route(topic: string, payload: Buffer, receivedAt: number): RouteResult;
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
  readonly connect?: (url: string, options: IClientOptions) => MqttClient;
  readonly now?: () => number;
}

type DoneCallback = (error?: Error) => void;

/**
 * The MQTT side: a persistent session by default, our own reconnect backoff, a retained online/offline status,
 * and persist-then-acknowledge: mqtt.js sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) when `handleMessage`'s
 * callback is called, which happens only after the message is in the spool, rejected with a reason, or unrouted.
 * mqtt.js hands over the next message only after that callback, so acknowledgements go out in arrival order.
 * It never unsubscribes: that would discard what the broker holds for the session.
 */
export class MqttSource {
  readonly #options: MqttSourceOptions;
  readonly #now: () => number;
  readonly #schedule: ReconnectSchedule;
  #client: MqttClient | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  /** Counts connections: a message held while its connection died must not be acknowledged on the next one. */
  #connection = 0;
  /** A burst is open: the socket is corked and the spool's records of the burst are not yet written. */
  #inBurst = false;
  /** When an incoming message last pushed back mqtt.js's keepalive timer (see #alive). */
  #aliveAt = 0;

  constructor(options: MqttSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#schedule = new ReconnectSchedule({ minMs: options.config.reconnectMinMs, maxMs: options.config.reconnectMaxMs });
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  start(): void {
    const { config, logger, stats, collapsed } = this.#options;
    const connect = this.#options.connect ?? mqtt.connect;
    // Credentials go as options (the config's username/password win over the URL's): see splitUrlCredentials.
    const fromUrl = splitUrlCredentials(config.url);
    const client = connect(fromUrl.url, this.#clientOptions(fromUrl));
    client.handleMessage = this.#handleMessage;
    this.#options.deadLetter?.attach(client);
    client.on('connect', (connack) => {
      this.#schedule.reset();
      stats.connected = true;
      stats.connects++;
      logger.info({ url: config.url, sessionPresent: connack.sessionPresent }, 'mqtt connected');
      stats.subscriptionErrors = 0;
      this.#subscribe(client);
      if (config.statusTopic !== '') {
        client.publish(config.statusTopic, 'online', { qos: 1, retain: true }, (error) => {
          if (error) logger.warn({ err: error.message }, 'could not publish the online status');
        });
      }
    });
    client.on('close', () => {
      this.#connection++;
      if (stats.connected) {
        stats.disconnects++;
        if (this.#stopping) logger.info({ url: config.url }, 'mqtt disconnected');
        else logger.warn({ url: config.url }, 'mqtt disconnected');
      }
      stats.connected = false;
      this.#scheduleReconnect();
    });
    client.on('error', (error) => {
      const message = describeTlsError(error, config.tls.label) ?? error.message;
      stats.lastError = message;
      collapsed.warn(`mqtt:${message}`, { url: config.url, err: message }, 'mqtt error');
    });
    this.#client = client;
  }

  /**
   * Stops taking messages (those arriving now are left unacknowledged, so the broker redelivers them to the
   * session), publishes the retained `offline` status, and disconnects without unsubscribing. Each wait on the
   * broker takes at most 2 s and at most a quarter of what is left until `deadline` (epoch ms, shutdown.timeoutMs):
   * an unresponsive broker used to cost a fixed 4 s, past the deadline, before the sinks could drain.
   */
  async stop(deadline: number = this.#now() + 8000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    if (client === undefined) return;
    const { config, logger } = this.#options;
    const budget = (): number => Math.min(2000, Math.max(0, deadline - this.#now()) / 4);
    if (client.connected && config.statusTopic !== '') {
      await withTimeout(client.publishAsync(config.statusTopic, 'offline', { qos: 1, retain: true }), budget()).catch(
        (error: unknown) => logger.warn({ err: String(error) }, 'could not publish the offline status'),
      );
    }
    await withTimeout(client.endAsync(false), budget()).catch(() => client.end(true));
  }

  #clientOptions(fromUrl: UrlCredentials): IClientOptions {
    const c = this.#options.config;
    const username = c.username !== '' ? c.username : fromUrl.username;
    const password = c.password !== '' ? c.password : fromUrl.password;
    return {
      clientId: c.clientId,
      clean: c.clean,
      protocolVersion: c.protocolVersion,
      keepalive: c.keepalive,
      connectTimeout: c.connectTimeoutMs,
      reconnectPeriod: 0, // reconnects are ours (ReconnectSchedule)
      // mqtt.js traces every packet through `debug`; even disabled that costs a few % of the CPU per message.
      log: noop,
      resubscribe: false, // we subscribe on every connect ourselves
      // mqtt-packet would otherwise pre-build 65 536 two-byte Buffers for packet ids on the first write: 6.8 MB of
      // heap held for the process's life, to save one tiny allocation per PUBACK.
      writeCache: false,
      // CA, client certificate and key as contents, read and checked once when the config was loaded.
      ...c.tls.files,
      ...(username !== '' ? { username } : {}),
      ...(password !== '' ? { password } : {}),
      ...(c.protocolVersion === 5
        ? {
            properties: {
              // The broker may send at most this many QoS 1/2 messages before we acknowledge: it keeps packet ids
              // of a long backlog from wrapping around while messages are unacknowledged.
              receiveMaximum: c.receiveMaximum,
              ...(c.clean ? {} : { sessionExpiryInterval: c.sessionExpirySec }),
            },
          }
        : {}),
      ...(c.statusTopic !== '' ? { will: { topic: c.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true } } : {}),
    };
  }

  #subscribe(client: MqttClient): void {
    const { config, logger, stats } = this.#options;
    const connection = this.#connection;
    for (const s of config.subscriptions) {
      client.subscribe(s.topic, { qos: s.qos }, (error, granted) => {
        // mqtt.js fails pending subscriptions when the connection closes: not a refusal, they are made again on the
        // next connect (readiness already says "not connected").
        if (error && (!client.connected || connection !== this.#connection)) {
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
      });
    }
  }

  #scheduleReconnect(): void {
    if (this.#stopping) return;
    clearTimeout(this.#reconnectTimer);
    const delay = this.#schedule.next();
    this.#reconnectTimer = setTimeout(() => {
      if (!this.#stopping) this.#client?.reconnect();
    }, delay);
  }

  /** The hot path: one call per message, synchronous unless the spool is full under the block policy. */
  readonly #handleMessage = (packet: IPublishPacket, done: DoneCallback): void => {
    if (this.#stopping) return; // not acknowledged: redelivered to the persistent session
    if (!this.#inBurst) this.#beginBurst();
    const { spool, stats, collapsed } = this.#options;
    if (packet.qos > 0) this.#alive();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    stats.received++;
    stats.receivedBytes += payload.length;
    const result = this.#route(packet.topic, payload);
    switch (result.kind) {
      case 'ok':
        if (spool.append(result.entry)) {
          stats.accepted++;
          // ack=fsync: the PUBACK waits for the fdatasync that covers this record.
          if (spool.syncBeforeAck) this.#ackAfterSync(done);
          else this.#release(done);
        } else {
          this.#appendWhenWritable(result.entry, done);
        }
        return;
      case 'unrouted':
        stats.unrouted++;
        collapsed.warn(`unrouted:${packet.topic}`, { topic: packet.topic }, 'message matches no route');
        this.#release(done);
        return;
      case 'rejected':
        stats.reject(result.reason);
        collapsed.warn(
          `rejected:${result.reason}:${packet.topic}`,
          { topic: packet.topic, reason: result.reason, detail: result.detail },
          'message rejected',
        );
        this.#options.deadLetter?.offer(result.reason, result.detail, packet.topic, payload);
        this.#release(done);
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
  #route(topic: string, payload: Buffer): RouteResult {
    try {
      return this.#options.router.route(topic, payload, this.#now());
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
  #alive(): void {
    const now = this.#now();
    if (now - this.#aliveAt < 1000) return;
    this.#aliveAt = now;
    this.#client?.reschedulePing();
  }

  /**
   * Hands the message back to mqtt.js (which then sends its PUBACK and takes the next message), unless the socket
   * already holds a full buffer of unsent writes: then only once it drains. mqtt.js ignores the socket's
   * backpressure for acknowledgements, so a broker that sends faster than it reads our PUBACKs (Mosquitto does at
   * full rate, whatever Receive Maximum says) would otherwise grow that buffer without bound — measured: 130 000
   * PUBACKs, 60 MB of heap, in 7 s. Waiting here stops mqtt.js reading, and TCP slows the broker down.
   */
  #release(done: DoneCallback): void {
    const stream = this.#client?.stream;
    if (stream !== undefined && stream.writableNeedDrain) stream.once('drain', () => done());
    else done();
  }

  /**
   * mqtt.js hands over the messages of one socket read one after another in the same turn of the event loop, and
   * each acknowledgement is written as its callback runs. A burst gathers them: the socket is corked on its
   * first message, and once the turn's messages are handled (setImmediate) the spool writes the burst's records
   * with one write(2), and only then is the socket uncorked, so every PUBACK of the burst leaves after its record
   * is written — one write for the records and one for the acknowledgements instead of two per message. If the
   * records could not be written, the connection is dropped with the PUBACKs unsent: the broker redelivers.
   */
  #beginBurst(): void {
    const stream = this.#client?.stream;
    this.#inBurst = true;
    stream?.cork();
    setImmediate(() => this.#endBurst(stream));
  }

  #endBurst(stream: MqttClient['stream'] | undefined): void {
    this.#inBurst = false;
    if (this.#options.spool.flush()) {
      stream?.uncork();
      return;
    }
    this.#options.stats.burstsUnwritten++;
    this.#options.logger.error({}, 'spool could not write a burst of messages: reconnecting without acknowledging them');
    stream?.destroy();
  }

  /**
   * ack=fsync: acknowledge once the record is on disk, but only on the connection the message came in on.
   * mqtt.js would queue a late PUBACK and send it on the next connection, where the broker may have given that
   * packet id to another message: acknowledging a message we never received. Unacknowledged, the broker
   * redelivers it instead (a duplicate record, never a loss).
   */
  #ackAfterSync(done: DoneCallback): void {
    const connection = this.#connection;
    this.#options.spool.sync((error) => {
      if (connection !== this.#connection || this.#stopping) return;
      done(error ?? undefined);
    });
  }

  /** Block policy: hold the acknowledgement (and with it mqtt.js's next message) until the spool has room. */
  #appendWhenWritable(entry: Entry, done: DoneCallback): void {
    const { spool, stats } = this.#options;
    stats.blocked++;
    const connection = this.#connection;
    const attempt = (): void => {
      // Stopping, or the connection died while we waited (a keepalive timeout: mqtt.js could not read the
      // broker's PINGRESP behind this message): leave it unacknowledged; the broker redelivers it.
      if (this.#stopping || connection !== this.#connection) {
        stats.blocked--;
        return;
      }
      if (spool.append(entry)) {
        stats.blocked--;
        stats.accepted++;
        if (spool.syncBeforeAck) this.#ackAfterSync(done);
        else done();
      } else {
        void spool.whenWritable().then(attempt);
      }
    };
    void spool.whenWritable().then(attempt);
  }
}

function noop(): void {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
