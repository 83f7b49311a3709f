import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Spool } from '../spool/Spool.ts';
import type { SourceStats } from '../stats/SourceStats.ts';
import type { ReadCoalescer } from './ReadCoalescer.ts';

type Stream = MqttClient['stream'];

/**
 * mqtt.js hands over the messages of one socket read one after another in the same turn of the event loop, and
 * each acknowledgement is written as its callback runs. A burst gathers them: the socket is corked on its
 * first message, and once the turn's messages are handled (setImmediate) the spool writes the burst's records
 * with one write(2), and only then is the socket uncorked, so every PUBACK of the burst leaves after its record
 * is written — one write for the records and one for the acknowledgements instead of two per message. If the
 * records could not be written, the connection is dropped with the PUBACKs unsent: the broker redelivers. The spool
 * is shared by every connection of the gateway and its pending records are theirs together, so a burst counts as
 * unwritten when any discard happened while it was open (`spool.discards` moved), not only when its own `flush`
 * call is the one that reports it: every connection with a burst open then redelivers (duplicates, never a loss).
 *
 * A burst belongs to the stream it corked, not to the source's state: it ends (and uncorks that stream) even if the
 * connection closed or stop() was called in the same turn.
 *
 * A small burst of QoS 0 messages then leaves the socket unread for a moment (ReadCoalescer), so the next burst is
 * bigger. Not after a QoS 1/2 message: the broker sends only so many of those before our acknowledgements (its
 * inflight limit, 20 by default in Mosquitto), so holding the socket would cap their throughput at that many per
 * window. Not after a big burst either: more is waiting then, and a pause would only idle the loop (measured with
 * every burst held for 5 ms: flat-out QoS 0 throughput fell from 26 500–34 000 to 11 600–20 800 msg/s).
 */

/** A burst of this many messages or more already spreads the wake-up over enough messages: the next is read at once. */
export const HOLD_BELOW_MESSAGES = 128;

export class Burst {
  readonly #spool: Spool;
  readonly #stats: SourceStats;
  readonly #logger: Logger;
  readonly #coalescer: ReadCoalescer | undefined;
  /** Two states, closed or open (the stream is corked and the burst's records are not yet written). */
  #open = false;
  /** The open burst holds a QoS 1/2 message. */
  #acknowledged = false;
  /** Messages in the open burst. */
  #messages = 0;
  /** `spool.discards` when the open burst began. */
  #discardsAtOpen = 0;

  constructor(options: { spool: Spool; stats: SourceStats; logger: Logger; coalescer?: ReadCoalescer | undefined }) {
    this.#spool = options.spool;
    this.#stats = options.stats;
    this.#logger = options.logger;
    this.#coalescer = options.coalescer;
  }

  /**
   * Called for every message (`acknowledged`: QoS 1/2): opens a burst on the turn's first one (allocating only
   * then), else nothing.
   */
  join(stream: Stream | undefined, acknowledged: boolean): void {
    if (acknowledged) this.#acknowledged = true;
    this.#messages++;
    if (this.#open) return;
    this.#open = true;
    this.#discardsAtOpen = this.#spool.discards;
    stream?.cork();
    setImmediate(() => this.#end(stream));
  }

  #end(stream: Stream | undefined): void {
    this.#open = false;
    const small = !this.#acknowledged && this.#messages < HOLD_BELOW_MESSAGES;
    this.#acknowledged = false;
    this.#messages = 0;
    const flushed = this.#spool.flush();
    if (flushed && this.#spool.discards === this.#discardsAtOpen) {
      stream?.uncork();
      if (small) this.#coalescer?.hold(stream);
      return;
    }
    this.#stats.burstsUnwritten++;
    this.#logger.error({}, 'spool could not write a burst of messages: reconnecting without acknowledging them');
    stream?.destroy();
  }
}
