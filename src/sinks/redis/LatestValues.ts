import { ByteWriter } from './ByteWriter.ts';
import { AS_IS, TRUE } from '../../lineprotocol/SimpleLine.ts';

/** Where a name or value's bytes are: the batch's text, or the side buffer of strings from the full parser. */
const IN_TEXT = 0;
const IN_SIDE = 1;

/** Numbers per field in `Group.fields`: where, nameStart, nameEnd, valueStart, valueEnd, kind, timeMs. */
const F = 7;

/**
 * One latest-value hash pair within a batch: the newest value of each field, as byte ranges in one flat array
 * (no object per field, no string per name or value, one array per group: with 10 000 devices a batch has
 * thousands of groups).
 */
interface Group {
  readonly valuesKey: string;
  readonly timesKey: string;
  /** `["<valuesKey>","<timesKey>",[` */
  readonly head: Buffer;
  readonly fields: number[];
  /** Field name (its bytes as latin1) → offset in `fields`; made once the group has more than INDEX_AFTER fields. */
  index: Map<string, number> | undefined;
}

/**
 * Fields a group is searched through one by one before it gets an index. A device's few fields are found at
 * their usual place (the guess) or by a short scan; a message of thousands of fields made the scan quadratic
 * (8 000 fields blocked the event loop for seconds, 100 000 for ~50 s).
 */
const INDEX_AFTER = 32;

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
  readonly #text: Buffer;

  constructor(text: Buffer) {
    this.#text = text;
  }

  /** The group of a series (created on first use). */
  group(valuesKey: string, timesKey: string, head: Buffer): Group {
    let g = this.#groups.get(valuesKey);
    if (g === undefined) {
      g = { valuesKey, timesKey, head, fields: [], index: undefined };
      this.#groups.set(valuesKey, g);
    }
    return g;
  }

  /** A field read from the text: name at [nameStart, nameEnd), value at [valueStart, valueEnd) or a boolean kind. */
  fromText(
    g: Group,
    guess: number,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
    kind: number,
    timeMs: number,
  ): void {
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
      const fields = g.fields;
      for (let f = 0; f < fields.length; f += F) {
        const source = fields[f] === IN_TEXT ? text : side;
        if (f > 0) w.byte(0x2c);
        w.byte(0x22);
        w.copy(source, fields[f + 1]!, fields[f + 2]!);
        quoteJoint(w);
        const kind = fields[f + 5]!;
        if (kind === AS_IS) w.copy(source, fields[f + 3]!, fields[f + 4]!);
        else w.piece(kind === TRUE ? TRUE_BYTES : FALSE_BYTES);
        quoteJoint(w);
        w.ascii(String(fields[f + 6]!));
        w.byte(0x22);
      }
      w.byte2(0x5d, 0x5d);
      keys.push(g.valuesKey, g.timesKey);
      ends.push(w.length);
    }
    w.byte(0x5d /* ] */);
    return { keys, ends };
  }

  #set(
    g: Group,
    guess: number,
    where: number,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
    kind: number,
    timeMs: number,
  ): void {
    const fields = g.fields;
    // A device sends the same fields in the same order: the field at the same index is nearly always the one.
    let at = guess * F;
    if (at >= fields.length || !this.#sameName(fields, at, where, nameStart, nameEnd)) at = this.#find(g, where, nameStart, nameEnd);
    if (at === -1) {
      if (g.index !== undefined) g.index.set(this.#key(where, nameStart, nameEnd), fields.length);
      fields.push(where, nameStart, nameEnd, valueStart, valueEnd, kind, timeMs);
      if (g.index === undefined && fields.length > INDEX_AFTER * F) g.index = this.#indexOf(fields);
    } else if (fields[at + 6]! <= timeMs) {
      // Name and value are both taken from the newer line: the two ranges must be in the same buffer.
      fields[at] = where;
      fields[at + 1] = nameStart;
      fields[at + 2] = nameEnd;
      fields[at + 3] = valueStart;
      fields[at + 4] = valueEnd;
      fields[at + 5] = kind;
      fields[at + 6] = timeMs;
    }
  }

  /** Where the field of this name is in the group, or -1. */
  #find(g: Group, where: number, nameStart: number, nameEnd: number): number {
    if (g.index !== undefined) return g.index.get(this.#key(where, nameStart, nameEnd)) ?? -1;
    const fields = g.fields;
    for (let f = 0; f < fields.length; f += F) if (this.#sameName(fields, f, where, nameStart, nameEnd)) return f;
    return -1;
  }

  #indexOf(fields: readonly number[]): Map<string, number> {
    const index = new Map<string, number>();
    for (let f = 0; f < fields.length; f += F) index.set(this.#key(fields[f]!, fields[f + 1]!, fields[f + 2]!), f);
    return index;
  }

  /**
   * A name's bytes as a string, one character per byte: equal keys are equal bytes, as `#sameName` compares them
   * (text names are of simple lines, with nothing JSON would escape; side names are JSON-escaped: the same bytes).
   */
  #key(where: number, start: number, end: number): string {
    return (where === IN_TEXT ? this.#text : this.#side.buf).toString('latin1', start, end);
  }

  #sameName(fields: readonly number[], at: number, where: number, start: number, end: number): boolean {
    const a = fields[at] === IN_TEXT ? this.#text : this.#side.buf;
    const b = where === IN_TEXT ? this.#text : this.#side.buf;
    let i = fields[at + 1]!;
    if (fields[at + 2]! - i !== end - start) return false;
    for (let k = start; k < end; k++, i++) if (a[i] !== b[k]) return false;
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
