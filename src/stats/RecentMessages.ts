import type { RejectReason, RouteResult } from '../pipeline/RouteResult.ts';
import type { Entry } from '../spool/Entry.ts';

/** Accepted entries kept for the status page's latest values: enough to cover a few dozen devices at once. */
const ENTRIES = 64;
/** Rejected messages kept (the status page's "last dead letters"). */
const REJECTIONS = 10;
/** Bytes of a rejected payload kept for display. */
const PREVIEW_BYTES = 200;

export interface RecentRejection {
  readonly at: number;
  readonly topic: string;
  readonly reason: RejectReason;
  readonly detail: string;
  /** The payload's first PREVIEW_BYTES bytes as UTF-8 (invalid bytes replaced); `truncated` when there was more. */
  readonly payload: string;
  readonly truncated: boolean;
}

/**
 * The last few messages, bounded, for `/status`: the accepted entries (a slot assignment per message, so the hot
 * path pays nothing more; they are parsed only when `/status` asks) and the last rejected messages.
 */
export class RecentMessages {
  readonly #entries: (Entry | undefined)[] = new Array(ENTRIES);
  #next = 0;
  readonly #rejections: RecentRejection[] = [];

  /** Called with every routing verdict. */
  observe(topic: string, payload: Buffer, result: RouteResult, at: number): void {
    if (result.kind === 'ok') {
      this.#entries[this.#next] = result.entry;
      this.#next = (this.#next + 1) % ENTRIES;
    } else if (result.kind === 'rejected') {
      if (this.#rejections.length === REJECTIONS) this.#rejections.shift();
      this.#rejections.push({
        at,
        topic,
        reason: result.reason,
        detail: result.detail,
        payload: payload.subarray(0, PREVIEW_BYTES).toString('utf8'),
        truncated: payload.length > PREVIEW_BYTES,
      });
    }
  }

  /** Oldest first. */
  entries(): Entry[] {
    const out: Entry[] = [];
    for (let i = 0; i < ENTRIES; i++) {
      const e = this.#entries[(this.#next + i) % ENTRIES];
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /** Newest first. */
  rejections(): readonly RecentRejection[] {
    return [...this.#rejections].reverse();
  }
}
