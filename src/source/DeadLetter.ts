import { isUtf8 } from 'node:buffer';
import type { MqttClient } from 'mqtt';
import type { RejectReason } from '../pipeline/RouteResult.ts';

export interface DeadLetterOptions {
  /** `edgebridge/<gatewayId>/deadletter` by default; '' disables. */
  readonly topic: string;
  readonly gatewayId: string;
  /** Publishes handed to mqtt.js and not yet written to the socket; beyond it rejected messages are dropped and counted. */
  readonly maxPending?: number;
  /** Payload bytes copied into one dead letter; the rest is cut (the record says how long the payload was). */
  readonly maxPayloadBytes?: number;
  readonly now?: () => number;
}

/**
 * Records are padded with spaces (JSON whitespace) to a multiple of this many bytes. mqtt-packet caches the encoded
 * "remaining length" of every packet size below 16 384 it has written, each in a 4-byte Buffer cut from Node's 64 KiB
 * Buffer pool, which that small Buffer keeps alive for the life of the process: every new dead-letter size pinned
 * 64 KiB. Found by the bulk run (scripts/bulk.ts): RSS 88 → 246 MB over 1 000 000 messages, ~40 MB of it such pool
 * slabs, growing towards 16 384 × 64 KiB = 1 GiB. With sizes in steps of 256 bytes a dead letter of up to 4096
 * payload bytes (base64: ~5.5 KB) has a few dozen sizes, which pin a few MB at most.
 */
export const DEAD_LETTER_SIZE_STEP = 256;

/** Counters read by /metrics and /status. */
export interface DeadLetterStats {
  published: number;
  dropped: number;
  /** Rejected messages that were themselves dead letters (this gateway's or another's): not dead-lettered again. */
  skipped: number;
}

/**
 * Rejected messages re-published, as they arrived plus the reason, to an MQTT topic (QoS 0, not retained) on the
 * broker connection the gateway already has: no second client, no credentials of its own, and whoever may read
 * the devices' topics may read this one. It never slows the hot path: a publish is handed to mqtt.js only while
 * connected and while fewer than `maxPending` are unwritten; otherwise the dead letter is dropped and counted
 * (mqtt.js would queue QoS 0 while offline without bound).
 *
 * A dead letter is never dead-lettered again, whoever wrote it: neither one arriving on this gateway's own
 * dead-letter topic nor one whose payload is a dead-letter record (`isDeadLetterRecord`), whatever topic another
 * gateway gave it. Two gateways subscribed to `#` with a route that rejected their records bounced them to each
 * other forever (~12 000 msg/s each way); a record is recognised by its content because the other gateway's topic
 * is its own config. Such a message is still rejected and counted by reason as any other, plus `stats.skipped`.
 *
 * Record (JSON, padded with spaces to a multiple of DEAD_LETTER_SIZE_STEP bytes):
 * { gateway, time (ISO), reason, detail, topic, payloadBytes, truncated, encoding: 'utf8'|'base64', payload }.
 */
export class DeadLetter {
  readonly stats: DeadLetterStats = { published: 0, dropped: 0, skipped: 0 };
  readonly #options: DeadLetterOptions;
  readonly #maxPending: number;
  readonly #maxPayloadBytes: number;
  readonly #now: () => number;
  #client: MqttClient | undefined;
  #pending = 0;

  constructor(options: DeadLetterOptions) {
    this.#options = options;
    this.#maxPending = options.maxPending ?? 1000;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  get topic(): string {
    return this.#options.topic;
  }

  /** The MQTT client to publish with (MqttSource passes its own once it has one). */
  attach(client: MqttClient): void {
    this.#client = client;
  }

  /** `sink_rejected`: a line a sink's server refused (the topic is then `sink:<name>`, the payload the line). */
  offer(reason: RejectReason | 'sink_rejected', detail: string, topic: string, payload: Buffer): void {
    const deadTopic = this.#options.topic;
    if (deadTopic === '') return;
    if (topic === deadTopic || isDeadLetterRecord(payload)) {
      this.stats.skipped++;
      return;
    }
    const client = this.#client;
    if (client === undefined || !client.connected || this.#pending >= this.#maxPending) {
      this.stats.dropped++;
      return;
    }
    const truncated = payload.length > this.#maxPayloadBytes;
    const kept = truncated ? payload.subarray(0, this.#maxPayloadBytes) : payload;
    // A cut may split a UTF-8 sequence: then the record carries base64, which is exact.
    const utf8 = isUtf8(kept);
    const json = JSON.stringify({
      gateway: this.#options.gatewayId,
      time: new Date(this.#now()).toISOString(),
      reason,
      detail,
      topic,
      payloadBytes: payload.length,
      truncated,
      encoding: utf8 ? 'utf8' : 'base64',
      payload: kept.toString(utf8 ? 'utf8' : 'base64'),
    });
    const bytes = Buffer.byteLength(json);
    const record = json + ' '.repeat((DEAD_LETTER_SIZE_STEP - (bytes % DEAD_LETTER_SIZE_STEP)) % DEAD_LETTER_SIZE_STEP);
    this.#pending++;
    client.publish(deadTopic, record, { qos: 0, retain: false }, (error) => {
      this.#pending--;
      if (error) this.stats.dropped++;
      else this.stats.published++;
    });
  }
}

/** What every record starts with (JSON.stringify keeps the key order of `offer`). */
const RECORD_START = Buffer.from('{"gateway":');

/**
 * Whether a payload is a dead-letter record of any gateway: a JSON object starting with `gateway` and holding the
 * record's fields with their types. Only rejected messages are checked (never the hot path), and the cheap prefix
 * test comes first. A device would have to send exactly such a record to be taken for one; it is still counted.
 */
export function isDeadLetterRecord(payload: Buffer): boolean {
  if (payload.length < RECORD_START.length || !payload.subarray(0, RECORD_START.length).equals(RECORD_START)) return false;
  let r: unknown;
  try {
    r = JSON.parse(payload.toString('utf8'));
  } catch {
    return false;
  }
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.gateway === 'string' &&
    typeof o.reason === 'string' &&
    typeof o.topic === 'string' &&
    typeof o.payloadBytes === 'number' &&
    typeof o.payload === 'string' &&
    (o.encoding === 'utf8' || o.encoding === 'base64')
  );
}
