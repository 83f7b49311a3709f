/**
 * A route: how messages on a topic become points. The configured keys (RouteConfig, the element type of `routes`)
 * and, once compiled by parseRoutes, the parts the pipeline runs: pattern, templates and field paths. Config
 * parses routes and the pipeline runs them; both take the type from here, so neither imports the other.
 */
import type { MessageProperty } from '../topic/MessageProperty.ts';
import type { Template } from '../topic/Template.ts';
import type { TopicPattern } from '../topic/TopicPattern.ts';
import type { FieldPath } from './FieldPath.ts';

export type PayloadFormat = 'json' | 'number' | 'line' | 'sparkplug';
export type TimeUnit = 'auto' | 's' | 'ms' | 'us' | 'ns' | 'iso';

/** One element of `routes`, every key filled (the route format's own type: parseRoutes.ts). */
export interface RouteConfig {
  /**
   * Topic pattern. Levels are literal, `+` (any one level), `{name}` (one level, captured),
   * or as the last level `#` / `{name#}` (the rest, captured joined with '/').
   */
  readonly topic: string;
  readonly format: PayloadFormat;
  /**
   * Template: `{name}` is replaced by the captured segment, `{$user.NAME}` / `{$contentType}` by an MQTT 5 property.
   * Ignored for format `line`.
   */
  readonly measurement: string;
  /** Tag templates; static strings are fine. The gateway tag is added by the router when `gatewayTag` is set. */
  readonly tags: Readonly<Record<string, string>>;
  /** json: dot paths of the fields to keep; empty = every top-level number/boolean/string. */
  readonly fields: readonly string[];
  /** json: flatten nested objects into `a_b` fields instead of ignoring them. */
  readonly flatten: boolean;
  /** json: dot path of the timestamp field; '' = arrival time; `$user.NAME` (any format but sparkplug): a user property. */
  readonly timeField: string;
  readonly timeUnit: TimeUnit;
  /** Names of the sinks this route writes to; empty = all. */
  readonly sinks: readonly string[];
  /** Report by exception (docs/report-by-exception.md); absent: every point is written. */
  readonly deadband?: DeadbandConfig;
}

/** When a field's new value is written; one rule per route, overridable per field. */
export interface DeadbandRule {
  /** A number is written when it differs from the last written one by more than this; 0: any change. */
  readonly absolute: number;
  /** … or by more than this percentage of the last written one (set absolute or percent, not both); 0: off. */
  readonly percent: number;
  /** A changed value is held back until this long after the last written one (point time, ms); 0: off. */
  readonly minIntervalMs: number;
  /** Heartbeat: a value is written when the last written one is at least this old, changed or not (ms); 0: off. */
  readonly maxIntervalMs: number;
  /** Before a written change, also write the last value held back (its own timestamp): a step keeps its shape. */
  readonly writePrevious: boolean;
}

/** A route's `deadband` key: the rule, the sinks it thins, the state's capacity, per-field rules. */
export interface DeadbandConfig extends DeadbandRule {
  /** The sinks whose history is thinned; the route's other sinks get every point. Absent: all the route's sinks. */
  readonly sinks?: readonly string[];
  /** Series × field values remembered (an LRU); one forgotten is written at its next value, and counted. */
  readonly capacity: number;
  /** Per field (by field key as written): keys of the rule to change, or false for a field written every time. */
  readonly fields: Readonly<Record<string, Partial<DeadbandRule> | false>>;
}

/**
 * A route as the loader returns it: the configured keys, plus its topic pattern, templates and field paths
 * compiled once (parseRoutes.ts). The compiled parts are non-enumerable, so print-config, logs and deep-equal see
 * the keys only.
 */
export interface Route extends RouteConfig {
  readonly pattern: TopicPattern;
  /** undefined for format `line`: the payload brings its measurement. */
  readonly measurementTemplate: Template | undefined;
  /** One per key of `tags`, in the same order. */
  readonly tagTemplates: readonly Template[];
  /** json: the selected fields without the time field (empty = every top-level value). */
  readonly fieldPaths: readonly FieldPath[];
  /** json: the time field; undefined when `timeField` is '' (arrival time) or a property. */
  readonly timePath: FieldPath | undefined;
  /**
   * The MQTT 5 properties the templates use, in order: the router appends their values to the topic's captures, so
   * template index `pattern.names.length + i` is `properties[i]`. Empty for a route that reads none (the hot path).
   */
  readonly properties: readonly MessageProperty[];
  /** Indexes into `properties` of those the measurement uses: a message without one is rejected (`missing_property`). */
  readonly measurementProperties: readonly number[];
  /** `timeField: "$user.NAME"`: the property holding the point's time, read in `timeUnit`. */
  readonly timeProperty: MessageProperty | undefined;
  /** The first key that reads a property (`tags.site`, `measurement`, `timeField`), for the protocol check; '' = none. */
  readonly propertyKey: string;
}
