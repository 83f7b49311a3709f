import type { RejectReason, RouteResult } from './RouteResult.ts';
import type { Captures } from '../topic/TopicPattern.ts';

/** Line protocol for one message: `points` lines joined with '\n' (see `splitLines` for string fields). */
export interface Decoded {
  readonly kind: 'decoded';
  readonly lines: string;
  readonly points: number;
}

export type Rejected = Extract<RouteResult, { kind: 'rejected' }>;

/** Turns a payload into line protocol for one route; built once per route with everything precompiled. */
export interface Decoder {
  /**
   * `arrivalUs`: receive time in epoch µs, the timestamp when the payload carries none. `topic`: the message's
   * topic, for formats whose topic has a grammar of its own (sparkplug). A result of 0 points means the message
   * carries no data by design (a Sparkplug command): the router counts it as unrouted.
   */
  decode(payload: Buffer, captures: Captures, arrivalUs: number, topic: string): Decoded | Rejected;
}

/** The rejection result; only on the (rare) failure path, so allocating is fine. */
export function rejected(reason: RejectReason, detail: string): Rejected {
  return { kind: 'rejected', reason, detail };
}
