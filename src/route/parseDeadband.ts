/**
 * Parses a route's `deadband` key (report by exception, docs/report-by-exception.md) into a DeadbandConfig with
 * every key filled. Each mistake is a FormatError with its path (`[2].deadband.percent`), hence exit 78 naming the
 * key; the sink names are checked against the enabled sinks by the loader, which knows them.
 */
import { FormatError } from '../errors/FormatError.ts';
import type { DeadbandConfig, DeadbandRule } from './Route.ts';

export const DEFAULT_DEADBAND_RULE: DeadbandRule = { absolute: 0, percent: 0, minIntervalMs: 0, maxIntervalMs: 0, writePrevious: false };
export const DEFAULT_DEADBAND_CAPACITY = 10_000;
/** A bound on the LRU so that a typo cannot ask for gigabytes (about 200 bytes per entry). */
export const MAX_DEADBAND_CAPACITY = 10_000_000;

const RULE_KEYS = Object.keys(DEFAULT_DEADBAND_RULE) as (keyof DeadbandRule)[];
const KEYS = [...RULE_KEYS, 'sinks', 'capacity', 'fields'];
const RULE_FIX = 'set absolute (a value change, in the field’s unit) or percent (of the last written value), not both';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The keys of a rule that `raw` sets, checked; `fieldRule`: a per-field override (fewer keys allowed). */
function parseRuleKeys(raw: Record<string, unknown>, at: string, allowed: readonly string[]): Partial<DeadbandRule> {
  const out: Record<string, number | boolean> = {};
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key))
      throw new FormatError({ path: `${at}.${key}`, expected: `one of ${allowed.join(', ')}`, value: raw[key], unknownKey: true });
  }
  for (const key of RULE_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    if (key === 'writePrevious') {
      if (typeof value !== 'boolean') throw new FormatError({ path: `${at}.${key}`, expected: 'a boolean (true or false)', value });
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      const unit = key === 'absolute' ? 'in the field’s unit' : key === 'percent' ? 'percent of the last written value' : 'milliseconds';
      throw new FormatError({ path: `${at}.${key}`, expected: `a number ≥ 0 (${unit}; 0 = off)`, value });
    } else if (key.endsWith('Ms') && !Number.isInteger(value)) {
      throw new FormatError({ path: `${at}.${key}`, expected: 'a whole number of milliseconds ≥ 0 (0 = off)', value });
    }
    out[key] = value;
  }
  return out as Partial<DeadbandRule>;
}

/** A complete rule: one of absolute/percent, the heartbeat longer than the minimum interval. */
function checkRule(rule: DeadbandRule, at: string): DeadbandRule {
  if (rule.absolute > 0 && rule.percent > 0) {
    throw new FormatError({
      path: at,
      expected: `a deadband with absolute or percent, not both (${RULE_FIX})`,
      value: { absolute: rule.absolute, percent: rule.percent },
    });
  }
  if (rule.maxIntervalMs > 0 && rule.minIntervalMs >= rule.maxIntervalMs) {
    throw new FormatError({
      path: `${at}.maxIntervalMs`,
      expected: `a heartbeat longer than minIntervalMs (${rule.minIntervalMs}), or 0 for none`,
      value: rule.maxIntervalMs,
    });
  }
  return rule;
}

/**
 * `fieldNames`: the fields the route can write (a json route's `fields`, a number route's `value`), so a per-field
 * rule naming another is refused; undefined when the payload decides (every field of a json object, line protocol).
 */
export function parseDeadband(raw: unknown, at: string, fieldNames: readonly string[] | undefined): DeadbandConfig {
  if (!isObject(raw)) {
    throw new FormatError({ path: at, expected: 'an object such as {"absolute": 0.2, "maxIntervalMs": 300000}', value: raw });
  }
  const rule = checkRule({ ...DEFAULT_DEADBAND_RULE, ...parseRuleKeys(raw, at, KEYS) }, at);

  let sinks: string[] | undefined;
  if (raw.sinks !== undefined) {
    const s = raw.sinks;
    if (!Array.isArray(s) || s.length === 0 || !s.every((n) => typeof n === 'string' && n !== '')) {
      throw new FormatError({
        path: `${at}.sinks`,
        expected: 'a non-empty array of sink names (leave the key out to thin every sink of the route)',
        value: s,
      });
    }
    sinks = [...(s as string[])];
  }

  const capacity = raw.capacity ?? DEFAULT_DEADBAND_CAPACITY;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_DEADBAND_CAPACITY) {
    throw new FormatError({
      path: `${at}.capacity`,
      expected: `a whole number of series × fields to remember, 1 to ${MAX_DEADBAND_CAPACITY} (default ${DEFAULT_DEADBAND_CAPACITY})`,
      value: capacity,
    });
  }

  const fields: Record<string, Partial<DeadbandRule> | false> = {};
  if (raw.fields !== undefined) {
    if (!isObject(raw.fields)) {
      throw new FormatError({
        path: `${at}.fields`,
        expected: 'an object of field name → {rule keys} or false (always written)',
        value: raw.fields,
      });
    }
    for (const [name, value] of Object.entries(raw.fields)) {
      const path = `${at}.fields.${name}`;
      if (fieldNames !== undefined && !fieldNames.includes(name)) {
        throw new FormatError({
          path,
          expected: `a field this route writes (${fieldNames.join(', ')}); remove the rule or add the field to the route's fields`,
          value: name,
        });
      }
      if (value === false) {
        fields[name] = false;
        continue;
      }
      if (!isObject(value))
        throw new FormatError({ path, expected: 'an object of rule keys, or false (the field is always written)', value });
      const own: { -readonly [K in keyof DeadbandRule]?: DeadbandRule[K] } = parseRuleKeys(value, path, RULE_KEYS);
      // A field that sets one kind of deadband drops the route's other kind: one of the two applies.
      if (own.absolute !== undefined && own.percent === undefined) own.percent = 0;
      if (own.percent !== undefined && own.absolute === undefined) own.absolute = 0;
      checkRule({ ...rule, ...own }, path);
      fields[name] = own;
    }
  }
  return { ...rule, ...(sinks === undefined ? {} : { sinks }), capacity, fields };
}
