import { splitLines } from '../../lineprotocol/splitLines.ts';
import { splitPoint } from '../../lineprotocol/splitPoint.ts';
import type { DeadbandConfig } from '../../route/Route.ts';
import type { Entry } from '../../spool/Entry.ts';
import type { RouteResult } from '../RouteResult.ts';
import { Deadband, type Decision, numberOf } from './Deadband.ts';
import { DeadbandState } from './DeadbandState.ts';
import type { RouteDeadbandCounters } from './DeadbandStats.ts';

/** Told of every value held back (the dry run shows them); absent in the gateway, which then does no such work. */
export type SuppressListener = (
  series: string,
  field: string,
  value: string,
  reason: Extract<Decision, { kind: 'suppress' }>['reason'],
) => void;

export interface RouteDeadbandOptions {
  readonly config: DeadbandConfig;
  /** The route's sink mask. */
  readonly routeSinks: number;
  /** The mask of the sinks thinned (a subset of routeSinks), and their names (for the counters). */
  readonly thinnedSinks: number;
  readonly thinnedNames: readonly string[];
  readonly counters: RouteDeadbandCounters;
  readonly onSuppress?: SuppressListener;
}

/**
 * Report by exception for one route: the decoded lines go through the deadband field by field; the thinned sinks
 * get the lines with the values held back removed (a line left with no field is dropped), and before a written
 * change the last value held back when `writePrevious`; the route's other sinks get every line. So the spool gets
 * up to two entries for one message: everything for the others, the thinned lines for the thinned sinks.
 */
export class RouteDeadband {
  readonly #default: Deadband;
  /** Per-field rules by field key as written; null: the field is always written. */
  readonly #fields: ReadonlyMap<string, Deadband | null>;
  readonly #state: DeadbandState;
  readonly #passSinks: number;
  readonly #thinnedSinks: number;
  readonly #thinnedNames: readonly string[];
  readonly #counters: RouteDeadbandCounters;
  readonly #onSuppress: SuppressListener | undefined;

  constructor(options: RouteDeadbandOptions) {
    const { config, counters } = options;
    this.#default = new Deadband(config);
    this.#fields = new Map(
      Object.entries(config.fields).map(([name, own]) => [name, own === false ? null : new Deadband({ ...config, ...own })] as const),
    );
    this.#state = new DeadbandState(config.capacity, counters);
    this.#passSinks = options.routeSinks & ~options.thinnedSinks;
    this.#thinnedSinks = options.thinnedSinks;
    this.#thinnedNames = options.thinnedNames;
    this.#counters = counters;
    counters.size = () => this.#state.size;
    for (const name of options.thinnedNames) if (!counters.suppressed.has(name)) counters.suppressed.set(name, 0);
    this.#onSuppress = options.onSuppress;
  }

  /** The routing verdict for one decoded message (`lines`, `points` as the decoder made them). */
  apply(lines: string, points: number, receivedAt: number): RouteResult {
    const state = this.#state;
    const fields = this.#fields;
    let out = '';
    let outPoints = 0;
    let suppressed = 0;
    let extra = 0; // previous values written: the thinned lines differ from the decoded ones even with nothing held back
    const all = points === 1 ? [lines] : splitLines(lines);
    for (let l = 0; l < all.length; l++) {
      const line = all[l]!;
      const point = splitPoint(line);
      const at = point === undefined ? Number.NaN : Number(point.timestamp);
      // Every line the gateway makes has fields and a timestamp; were one not so, it is written, not judged.
      if (point === undefined || point.timestamp === '' || !Number.isFinite(at)) {
        out = out === '' ? line : `${out}\n${line}`;
        outPoints++;
        continue;
      }
      const { series, fields: parts, timestamp } = point;
      let kept = '';
      // Held-back values written before this line's changes: fields of one time share a line.
      let previous = '';
      let previousAt = 0;
      for (let f = 0; f < parts.length; f++) {
        const { key, value } = parts[f]!;
        const own = fields.size === 0 ? undefined : fields.get(key);
        const rule = own === undefined ? this.#default : own;
        if (rule === null) {
          kept = kept === '' ? `${key}=${value}` : `${kept},${key}=${value}`;
          continue;
        }
        const memoryKey = `${series} ${key}`;
        const memory = state.get(memoryKey);
        const number = numberOf(value);
        const decision = rule.decide(memory, value, number, at);
        switch (decision.kind) {
          case 'suppress':
            suppressed++;
            this.#onSuppress?.(series, key, value, decision.reason);
            break;
          case 'write-with-previous':
            // The held-back value at its own time, before the change.
            if (previous !== '' && previousAt === decision.at) {
              previous += `,${key}=${decision.text}`;
            } else {
              if (previous !== '') {
                out = out === '' ? `${series} ${previous} ${previousAt}` : `${out}\n${series} ${previous} ${previousAt}`;
                outPoints++;
              }
              previous = `${key}=${decision.text}`;
              previousAt = decision.at;
            }
            extra++;
            kept = kept === '' ? `${key}=${value}` : `${kept},${key}=${value}`;
            break;
          case 'write':
            kept = kept === '' ? `${key}=${value}` : `${kept},${key}=${value}`;
            break;
        }
        const next = rule.apply(memory, decision, value, number, at);
        if (memory === undefined) state.set(memoryKey, next);
      }
      if (previous !== '') {
        out = out === '' ? `${series} ${previous} ${previousAt}` : `${out}\n${series} ${previous} ${previousAt}`;
        outPoints++;
      }
      if (kept === '') continue;
      const written = `${series} ${kept} ${timestamp}`;
      out = out === '' ? written : `${out}\n${written}`;
      outPoints++;
    }
    if (suppressed === 0 && extra === 0) {
      return { kind: 'ok', entry: { lines, points, sinks: this.#passSinks | this.#thinnedSinks, receivedAt } };
    }
    const counts = this.#counters.suppressed;
    for (const name of this.#thinnedNames) counts.set(name, counts.get(name)! + suppressed);
    const pass = this.#passSinks;
    const thinned: Entry | undefined =
      outPoints === 0 ? undefined : { lines: out, points: outPoints, sinks: this.#thinnedSinks, receivedAt };
    if (pass === 0) return thinned === undefined ? { kind: 'suppressed', suppressed } : { kind: 'ok', entry: thinned, suppressed };
    const full: Entry = { lines, points, sinks: pass, receivedAt };
    return thinned === undefined ? { kind: 'ok', entry: full, suppressed } : { kind: 'ok', entry: full, also: thinned, suppressed };
  }
}
