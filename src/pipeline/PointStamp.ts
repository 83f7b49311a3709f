import type { Route } from '../route/Route.ts';
import { isWritableName } from '../lineprotocol/isWritableName.ts';
import { writeSeries } from '../lineprotocol/writeSeries.ts';
import type { Captures } from '../topic/TopicPattern.ts';
import { Template } from '../topic/Template.ts';

type SeriesEntry = string | { readonly error: string };
type SeriesLevel = Map<string, SeriesEntry | SeriesLevel>;

/** Distinct series (devices × measurements) one route keeps ready; beyond this the cache starts over. */
const MAX_SERIES = 10_000;

/**
 * What a route stamps on each of its points: the measurement template and the tags
 * (route tags, then the gateway tag, which wins: the gateway's identity is not for payloads to forge).
 * Static parts were checked at load, so a bad config fails there, not on every message.
 */
export class PointStamp {
  readonly #measurement: Template | undefined;
  // Tags as parallel arrays, applied in order. Static values are checked once; dynamic ones per message.
  readonly #keys: readonly string[];
  readonly #templates: readonly Template[];
  // Rendered tag values of the current message: reused, since routing is synchronous.
  readonly #values: string[];
  /** Captures, one Map level each → escaped series prefix, or why it cannot be written. */
  readonly #series: SeriesLevel = new Map();
  #seriesCount = 0;
  #seriesError = '';

  /** The route's templates come compiled and checked by the loader (route/parseRoutes.ts); none for format line. */
  constructor(route: Route, gateway: string | undefined) {
    this.#measurement = route.measurementTemplate;
    const keys = Object.keys(route.tags);
    const templates = [...route.tagTemplates];
    if (gateway !== undefined) {
      if (gateway === '' || !isWritableName(gateway)) throw new RangeError(`gateway id "${gateway}" cannot be a tag value`);
      // The gateway's identity overrides a route tag of the same key: one key, one value.
      const own = keys.indexOf('gateway');
      if (own !== -1) {
        keys.splice(own, 1);
        templates.splice(own, 1);
      }
      keys.push('gateway');
      templates.push(new Template(gateway.replaceAll('{', '{{').replaceAll('}', '}}'), route.pattern.names));
    }
    this.#keys = keys;
    this.#templates = templates;
    this.#values = new Array<string>(keys.length).fill('');
  }

  /**
   * The series prefix of a line for these captures — measurement and sorted tags, escaped (`writeSeries`) — or
   * undefined when it cannot be written (`seriesError` says why). Built once per distinct captures (a device's
   * topic) and cached: per message this is a Map lookup.
   */
  series(captures: Captures): string | undefined {
    // One Map level per capture (a device, then a measurement…): no key string is built per message, and no two
    // capture lists can share an entry whatever characters they hold.
    let level: SeriesLevel = this.#series;
    const last = captures.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(captures[i]!) as SeriesLevel | undefined;
      if (next === undefined) level.set(captures[i]!, (next = new Map()));
      level = next;
    }
    const key = last >= 0 ? captures[last]! : '';
    let cached = level.get(key) as SeriesEntry | undefined;
    if (cached === undefined) {
      if (++this.#seriesCount > MAX_SERIES) {
        this.#series.clear();
        this.#seriesCount = 1;
        return this.series(captures);
      }
      cached = this.#buildSeries(captures);
      level.set(key, cached);
    }
    if (typeof cached === 'string') return cached;
    this.#seriesError = cached.error;
    return undefined;
  }

  /** Why the last `series()` returned undefined. */
  get seriesError(): string {
    return this.#seriesError;
  }

  #buildSeries(captures: Captures): string | { readonly error: string } {
    const measurement = this.measurement(captures);
    if (measurement === '') return { error: 'measurement is empty or cannot be written as line protocol' };
    const tagError = this.prepareTags(captures);
    if (tagError !== undefined) return { error: tagError };
    return this.seriesWith(measurement, []);
  }

  /** The measurement for these captures; '' when it renders empty or unsafe (the caller rejects with bad_name). */
  measurement(captures: Captures): string {
    const m = this.#measurement!;
    if (m.isStatic) return m.value;
    const name = m.render(captures);
    return isWritableName(name) ? name : '';
  }

  /** Renders the tag values for this message; returns an error detail when one cannot be written. */
  prepareTags(captures: Captures): string | undefined {
    const templates = this.#templates;
    const values = this.#values;
    for (let i = 0; i < templates.length; i++) {
      const t = templates[i]!;
      if (t.isStatic) {
        values[i] = t.value; // checked at load
        continue;
      }
      const v = t.render(captures);
      if (!isWritableName(v)) return `tag "${this.#keys[i]}" value "${v}" cannot be written as line protocol`;
      values[i] = v;
    }
    return undefined;
  }

  /**
   * The series key of `measurement` with the payload's own tags (unique keys, checked writable) and the tags
   * rendered by the last `prepareTags`, which override a payload tag of the same key unless they rendered empty.
   */
  seriesWith(measurement: string, payloadTags: ReadonlyArray<readonly [string, string]>): string {
    const keys = this.#keys;
    const values = this.#values;
    const tags: Array<readonly [string, string]> = [];
    for (let i = 0; i < payloadTags.length; i++) {
      const tag = payloadTags[i]!;
      const at = keys.indexOf(tag[0]); // the route's tags are a handful
      if (at === -1 || values[at] === '') tags.push(tag);
    }
    for (let i = 0; i < keys.length; i++) if (values[i] !== '') tags.push([keys[i]!, values[i]!]);
    return writeSeries(measurement, tags);
  }
}
