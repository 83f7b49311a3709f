import type { Captures } from '../topic/TopicPattern.ts';
import { type Decoded, type Decoder, type Rejected, rejected } from './Decoder.ts';
import type { PointStamp } from './PointStamp.ts';

// Plain decimal only: Number() alone would also take '' (as 0), '0x1f' and 'Infinity'.
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `number` payloads: a bare number (or true/false) → field `value` (always float, see JsonDecoder), arrival time. */
export class NumberDecoder implements Decoder {
  readonly #stamp: PointStamp;

  constructor(stamp: PointStamp) {
    this.#stamp = stamp;
  }

  decode(payload: Buffer, captures: Captures, arrivalUs: number): Decoded | Rejected {
    const text = payload.toString('utf8').trim();
    let bool: boolean | undefined;
    let value = 0;
    if (text === 'true' || text === 'false') {
      bool = text === 'true';
    } else {
      value = DECIMAL.test(text) ? Number(text) : Number.NaN;
      // 1e999 passes the pattern but is Infinity, which line protocol cannot carry.
      if (!Number.isFinite(value)) return rejected('bad_number', `payload is not a number: ${JSON.stringify(text.slice(0, 40))}`);
    }
    const stamp = this.#stamp;
    const series = stamp.series(captures);
    if (series === undefined) return rejected('bad_name', stamp.seriesError);
    const field = bool === undefined ? String(value) : bool ? 'T' : 'F';
    return { kind: 'decoded', lines: `${series} value=${field} ${arrivalUs}`, points: 1 };
  }
}
