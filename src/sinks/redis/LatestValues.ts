import { ByteWriter } from './ByteWriter.ts';
import { AS_IS, TRUE } from './SimpleLine.ts';

/** Where a name or value's bytes are: the batch's text, or the side buffer of strings from the full parser. */
const IN_TEXT = 0;
const IN_SIDE = 1;

/**
 * One latest-value hash pair within a batch: the newest value of each field, as byte ranges (parallel arrays: no
 * object per field, no string per name or value).
 */
interface Group {
  readonly valuesKey: string;
  readonly timesKey: string;
  /** `["<valuesKey>","<timesKey>",[` */
  readonly head: Buffer;
  readonly where: number[];
  readonly nameStart: number[];
  readonly nameEnd: number[];
  readonly valueStart: number[];
  readonly valueEnd: number[];
  readonly kind: number[];
  readonly times: number[];
}

const TRUE_BYTES = Buffer.from('true');
const FALSE_BYTES = Buffer.from('false');

/**
 * Coalesces a batch's latest values: only the newest value per device, measurement and field goes to Redis (a
 * later line wins a tie). Names and values are kept as byte ranges of the batch's text; lines that went through
 * the full parser add theirs JSON-escaped to a side buffer. `write` emits the script's ARGV 3 JSON,
 * `[[valuesKey, timesKey, [field, value, timeMs, …]], …]`, and where each group ends in it.
 */
export class LatestValues {
  readonly #groups = new Map<string, Group>();
  readonly #side = new ByteWriter(256);
  readonly #text: Uint8Array;

  constructor(text: Uint8Array) {
    this.#text = text;
  }

  /** The group of a series (created on first use). */
  group(valuesKey: string, timesKey: string, head: Buffer): Group {
    let g = this.#groups.get(valuesKey);
    if (g === undefined) {
      g = { valuesKey, timesKey, head, where: [], nameStart: [], nameEnd: [], valueStart: [], valueEnd: [], kind: [], times: [] };
      this.#groups.set(valuesKey, g);
    }
    return g;
  }

  /** A field read from the text: name at [nameStart, nameEnd), value at [valueStart, valueEnd) or a boolean kind. */
  fromText(g: Group, guess: number, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number, kind: number, timeMs: number): void {
    this.#set(g, guess, IN_TEXT, nameStart, nameEnd, valueStart, valueEnd, kind, timeMs);
  }

  /** A field from the full parser: name and value as strings. */
  fromStrings(g: Group, name: string, value: string, timeMs: number): void {
    const side = this.#side;
    const nameStart = side.length;
    side.utf8(jsonContent(name));
    const valueStart = side.length;
    side.utf8(jsonContent(value));
    this.#set(g, 0, IN_SIDE, nameStart, valueStart, valueStart, side.length, AS_IS, timeMs);
  }

  get size(): number {
    return this.#groups.size;
  }

  /** Writes the JSON; returns the group keys (values key, times key, …) and where each group's JSON ends. */
  write(w: ByteWriter): { keys: string[]; ends: number[] } {
    const keys: string[] = [];
    const ends: number[] = [];
    const text = this.#text;
    const side = this.#side.buf;
    w.byte(0x5b /* [ */);
    for (const g of this.#groups.values()) {
      if (keys.length > 0) w.byte(0x2c);
      w.piece(g.head);
      for (let f = 0; f < g.times.length; f++) {
        const source = g.where[f] === IN_TEXT ? text : side;
        if (f > 0) w.byte(0x2c);
        w.byte(0x22);
        w.copy(source, g.nameStart[f]!, g.nameEnd[f]!);
        quoteJoint(w);
        const kind = g.kind[f]!;
        if (kind === AS_IS) w.copy(source, g.valueStart[f]!, g.valueEnd[f]!);
        else w.piece(kind === TRUE ? TRUE_BYTES : FALSE_BYTES);
        quoteJoint(w);
        w.ascii(String(g.times[f]!));
        w.byte(0x22);
      }
      w.byte2(0x5d, 0x5d);
      keys.push(g.valuesKey, g.timesKey);
      ends.push(w.length);
    }
    w.byte(0x5d /* ] */);
    return { keys, ends };
  }

  #set(g: Group, guess: number, where: number, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number, kind: number, timeMs: number): void {
    // A device sends the same fields in the same order: the field at the same index is nearly always the one.
    let i = guess < g.times.length && this.#sameName(g, guess, where, nameStart, nameEnd) ? guess : -1;
    for (let j = 0; i === -1 && j < g.times.length; j++) if (this.#sameName(g, j, where, nameStart, nameEnd)) i = j;
    if (i === -1) {
      g.where.push(where);
      g.nameStart.push(nameStart);
      g.nameEnd.push(nameEnd);
      g.valueStart.push(valueStart);
      g.valueEnd.push(valueEnd);
      g.kind.push(kind);
      g.times.push(timeMs);
    } else if (g.times[i]! <= timeMs) {
      // Name and value are both taken from the newer line: the two ranges must be in the same buffer.
      g.where[i] = where;
      g.nameStart[i] = nameStart;
      g.nameEnd[i] = nameEnd;
      g.valueStart[i] = valueStart;
      g.valueEnd[i] = valueEnd;
      g.kind[i] = kind;
      g.times[i] = timeMs;
    }
  }

  #sameName(g: Group, i: number, where: number, start: number, end: number): boolean {
    const a = g.where[i] === IN_TEXT ? this.#text : this.#side.buf;
    const b = where === IN_TEXT ? this.#text : this.#side.buf;
    let at = g.nameStart[i]!;
    if (g.nameEnd[i]! - at !== end - start) return false;
    for (let k = start; k < end; k++, at++) if (a[at] !== b[k]) return false;
    return true;
  }
}

/** A string as JSON writes it between its quotes. */
function jsonContent(s: string): string {
  const json = JSON.stringify(s);
  return json.slice(1, -1);
}

/** `","` between a JSON list's strings. */
function quoteJoint(w: ByteWriter): void {
  w.byte2(0x22, 0x2c);
  w.byte(0x22);
}
