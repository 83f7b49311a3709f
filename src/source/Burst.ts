import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Spool } from '../spool/Spool.ts';
import type { SourceStats } from '../stats/SourceStats.ts';

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
 */
export class Burst {
  readonly #spool: Spool;
  readonly #stats: SourceStats;
  readonly #logger: Logger;
  /** Two states, closed or open (the stream is corked and the burst's records are not yet written). */
  #open = false;
  /** `spool.discards` when the open burst began. */
  #discardsAtOpen = 0;

  constructor(options: { spool: Spool; stats: SourceStats; logger: Logger }) {
    this.#spool = options.spool;
    this.#stats = options.stats;
    this.#logger = options.logger;
  }

  /** Called for every message: opens a burst on the turn's first one (allocating only then), else nothing. */
  join(stream: Stream | undefined): void {
    if (this.#open) return;
    this.#open = true;
    this.#discardsAtOpen = this.#spool.discards;
    stream?.cork();
    setImmediate(() => this.#end(stream));
  }

  #end(stream: Stream | undefined): void {
    this.#open = false;
    const flushed = this.#spool.flush();
    if (flushed && this.#spool.discards === this.#discardsAtOpen) {
      stream?.uncork();
      return;
    }
    this.#stats.burstsUnwritten++;
    this.#logger.error({}, 'spool could not write a burst of messages: reconnecting without acknowledging them');
    stream?.destroy();
  }
}
