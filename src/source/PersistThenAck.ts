import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { CollapsingLog } from '../log/CollapsingLog.ts';
import type { Entry } from '../spool/Entry.ts';
import type { Spool } from '../spool/Spool.ts';
import type { SourceStats } from '../stats/SourceStats.ts';
import type { Burst } from './Burst.ts';
import type { SourceLifecycle } from './SourceLifecycle.ts';

/** mqtt.js's callback for a received message: called, it sends the PUBACK (QoS 1) and hands over the next message. */
export type DoneCallback = (error?: Error) => void;

export interface PersistThenAckOptions {
  readonly spool: Spool;
  readonly stats: SourceStats;
  readonly logger: Logger;
  readonly collapsed: CollapsingLog;
  /** Which connection is current: an acknowledgement is given only on the connection its message came in on. */
  readonly lifecycle: SourceLifecycle;
  /** The source's burst: a held message's record is written with its turn's, before its PUBACK leaves. */
  readonly burst: Burst;
}

/**
 * When a received message is handed back to mqtt.js, i.e. when its PUBACK may leave: after its record is written
 * (ack=write; the burst writes it), after the fdatasync that covers it (ack=fsync), after the spool had room
 * (overflow=block), and never for a record that could not be kept (the connection is dropped: the broker redelivers).
 */
export class PersistThenAck {
  readonly #o: PersistThenAckOptions;

  constructor(options: PersistThenAckOptions) {
    this.#o = options;
  }

  /**
   * Hands the message back to mqtt.js (which then sends its PUBACK and takes the next message), unless the socket
   * already holds a full buffer of unsent writes: then only once it drains. mqtt.js ignores the socket's
   * backpressure for acknowledgements, so a broker that sends faster than it reads our PUBACKs (Mosquitto does at
   * full rate, whatever Receive Maximum says) would otherwise grow that buffer without bound — measured: 130 000
   * PUBACKs, 60 MB of heap, in 7 s. Waiting here stops mqtt.js reading, and TCP slows the broker down.
   */
  release(done: DoneCallback, client: MqttClient): void {
    const stream = client.stream;
    if (stream?.writableNeedDrain) stream.once('drain', () => done());
    else done();
  }

  /**
   * ack=fsync: acknowledge once the record is on disk, but only on the connection the message came in on.
   * mqtt.js would queue a late PUBACK and send it on the next connection, where the broker may have given that
   * packet id to another message: acknowledging a message we never received. Unacknowledged, the broker
   * redelivers it instead (a duplicate record, never a loss). A record that could not be made durable (a failed
   * write or fdatasync) drops the connection: the broker redelivers only on a new one, and until then the message
   * would hold a slot of its in-flight window (enough of them stall the connection for good).
   */
  afterSync(done: DoneCallback, connection: number): void {
    this.#o.spool.sync((error) => {
      const state = this.#o.lifecycle.state;
      if (!this.#o.lifecycle.holds(connection) || state.kind === 'idle' || state.kind === 'stopped') return;
      if (error) {
        this.#o.collapsed.error(
          `sync:${error.message}`,
          { err: error.message },
          'spool could not make a record durable: reconnecting without acknowledging it',
        );
        state.client.stream?.destroy();
      }
      done(error ?? undefined);
    });
  }

  /** Block policy: hold the acknowledgement (and with it mqtt.js's next message) until the spool has room. */
  whenWritable(entry: Entry, done: DoneCallback, connection: number, also?: Entry): void {
    const { spool, stats } = this.#o;
    stats.blocked++;
    let next: Entry | undefined = entry;
    let after = also;
    const attempt = (): void => {
      // Stopping, or the connection died while we waited (a keepalive timeout: mqtt.js could not read the
      // broker's PINGRESP behind this message): leave it unacknowledged; the broker redelivers it.
      if (!this.#o.lifecycle.holds(connection)) {
        stats.blocked--;
        return;
      }
      while (next !== undefined && spool.append(next)) {
        next = after;
        after = undefined;
      }
      if (next === undefined) {
        stats.blocked--;
        stats.accepted++;
        if (spool.syncBeforeAck) this.afterSync(done, connection);
        else this.#inBurst(done, connection);
      } else {
        void spool.whenWritable().then(attempt);
      }
    };
    void spool.whenWritable().then(attempt);
  }

  /**
   * ack=write: the held message was appended outside the burst of its socket read, so it joins a burst of its own
   * turn: the socket is corked, the PUBACK waits in it, and the burst's end writes the turn's records with one
   * write(2) and only then uncorks (or drops the connection if they could not be written). Writing each held
   * message by itself instead spent a full disk's last bytes one record at a time, and the disk never recovered.
   */
  #inBurst(done: DoneCallback, connection: number): void {
    const state = this.#o.lifecycle.state;
    if (!this.#o.lifecycle.holds(connection) || state.kind === 'idle' || state.kind === 'stopped') return;
    this.#o.burst.join(state.client.stream, true);
    done();
  }
}
