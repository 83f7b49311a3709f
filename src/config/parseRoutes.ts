/**
 * Validates the `routes` list and fills each route's missing optional keys. Used as the convict
 * format of `routes` (so bad routes fail validation with a path like `[2].format`) and by the
 * loader to produce the normalised RouteConfig[].
 */
import type { PayloadFormat, RouteConfig, TimeUnit } from './Config.ts';
import { FormatError } from './FormatError.ts';
import { coerceJson, type FormatSpec } from './formats.ts';
import { isCaptureName } from '../topic/captureName.ts';
import { parseSharedFilter, SHARED_FILTER_EXPECTED } from '../topic/SharedFilter.ts';

export const DEFAULT_ROUTE: RouteConfig = {
  topic: 'sensors/{device}/{measurement}',
  format: 'json',
  measurement: '{measurement}',
  tags: { device: '{device}' },
  fields: [],
  flatten: false,
  timeField: 'ts',
  timeUnit: 'ms',
  sinks: [],
};

const ROUTE_KEYS = Object.keys(DEFAULT_ROUTE) as (keyof RouteConfig)[];
const FORMATS: readonly PayloadFormat[] = ['json', 'number', 'line'];
const TIME_UNITS: readonly TimeUnit[] = ['auto', 's', 'ms', 'us', 'ns', 'iso'];
const PLACEHOLDER = /\{([^{}]*)\}/g;

const TOPIC_EXPECTED =
  'a topic pattern of literal levels, "+", "{name}", and as the last level "#" or "{name#}"';

/** Names captured by a topic pattern, or a reason it is malformed. */
function capturedNames(topic: string): string[] | undefined {
  const names: string[] = [];
  const levels = topic.split('/');
  for (const [i, level] of levels.entries()) {
    const last = i === levels.length - 1;
    const capture = /^\{([^{}]*)\}$/.exec(level);
    if (capture) {
      const name = capture[1]!.endsWith('#') && last ? capture[1]!.slice(0, -1) : capture[1]!;
      if (!isCaptureName(name) || names.includes(name)) return undefined;
      names.push(name);
    } else if (level === '#') {
      if (!last) return undefined;
    } else if (level !== '+' && /[+#{}\u0000]/.test(level)) {
      return undefined;
    }
  }
  return names;
}

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

function checkTemplate(template: string, captured: readonly string[], path: string): void {
  const missing = placeholders(template).filter((name) => !captured.includes(name));
  if (missing.length > 0) {
    throw new FormatError({
      path,
      expected: `a template using only names the topic captures (${captured.length ? captured.map((n) => `{${n}}`).join(', ') : 'none'})`,
      value: template,
    });
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '');
}

function parseRoute(raw: unknown, at: string): RouteConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FormatError({ path: at, expected: 'a route object with at least "topic"', value: raw });
  }
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!(ROUTE_KEYS as string[]).includes(key)) {
      throw new FormatError({ path: `${at}.${key}`, expected: `one of ${ROUTE_KEYS.join(', ')}`, value: r[key], unknownKey: true });
    }
  }
  if (typeof r.topic !== 'string' || r.topic === '') {
    throw new FormatError({ path: `${at}.topic`, expected: 'a non-empty topic pattern (required)', value: r.topic });
  }
  let pattern: string;
  try {
    pattern = parseSharedFilter(r.topic).filter;
  } catch (error) {
    throw new FormatError({
      path: `${at}.topic`,
      expected: `${TOPIC_EXPECTED}, optionally after ${SHARED_FILTER_EXPECTED} (here ${(error as Error).message})`,
      value: r.topic,
    });
  }
  const captured = capturedNames(pattern);
  if (!captured) throw new FormatError({ path: `${at}.topic`, expected: TOPIC_EXPECTED, value: r.topic });

  const format = r.format ?? DEFAULT_ROUTE.format;
  if (!FORMATS.includes(format as PayloadFormat)) {
    throw new FormatError({ path: `${at}.format`, expected: `one of ${FORMATS.join(', ')}`, value: format });
  }
  const timeUnit = r.timeUnit ?? DEFAULT_ROUTE.timeUnit;
  if (!TIME_UNITS.includes(timeUnit as TimeUnit)) {
    throw new FormatError({ path: `${at}.timeUnit`, expected: `one of ${TIME_UNITS.join(', ')}`, value: timeUnit });
  }

  // The defaults of measurement and tags are templates over the default topic's captures; they
  // only make sense when this topic captures the same names. Line protocol carries its own.
  let measurement = r.measurement;
  if (measurement === undefined) {
    if (format !== 'line' && !captured.includes('measurement')) {
      throw new FormatError({
        path: `${at}.measurement`,
        expected: 'a measurement name or template (required: the topic captures no {measurement})',
        value: undefined,
      });
    }
    measurement = DEFAULT_ROUTE.measurement;
  }
  if (typeof measurement !== 'string' || (format !== 'line' && measurement === '')) {
    throw new FormatError({ path: `${at}.measurement`, expected: 'a non-empty measurement name or template', value: measurement });
  }
  if (format !== 'line') checkTemplate(measurement, captured, `${at}.measurement`);

  let tags = r.tags;
  if (tags === undefined) {
    tags = Object.fromEntries(
      Object.entries(DEFAULT_ROUTE.tags).filter(([, t]) => placeholders(t).every((n) => captured.includes(n))),
    );
  }
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw new FormatError({ path: `${at}.tags`, expected: 'an object of tag name → template', value: tags });
  }
  for (const [name, template] of Object.entries(tags)) {
    if (name === '' || typeof template !== 'string') {
      throw new FormatError({ path: `${at}.tags.${name}`, expected: 'a tag template string', value: template });
    }
    checkTemplate(template, captured, `${at}.tags.${name}`);
  }

  const fields = r.fields ?? DEFAULT_ROUTE.fields;
  if (!isStringArray(fields)) {
    throw new FormatError({ path: `${at}.fields`, expected: 'an array of non-empty dot paths', value: fields });
  }
  const flatten = r.flatten ?? DEFAULT_ROUTE.flatten;
  if (typeof flatten !== 'boolean') {
    throw new FormatError({ path: `${at}.flatten`, expected: 'a boolean (true or false)', value: flatten });
  }
  const timeField = r.timeField ?? DEFAULT_ROUTE.timeField;
  if (typeof timeField !== 'string') {
    throw new FormatError({ path: `${at}.timeField`, expected: 'a dot path, or "" for arrival time', value: timeField });
  }
  const sinks = r.sinks ?? DEFAULT_ROUTE.sinks;
  if (!isStringArray(sinks)) {
    throw new FormatError({ path: `${at}.sinks`, expected: 'an array of sink names ([] = all sinks)', value: sinks });
  }

  return {
    topic: r.topic,
    format: format as PayloadFormat,
    measurement,
    tags: tags as Record<string, string>,
    fields: [...fields],
    flatten,
    timeField,
    timeUnit: timeUnit as TimeUnit,
    sinks: [...sinks],
  };
}

/** Throws FormatError with a path like `[2].format`. */
export function parseRoutes(value: unknown): RouteConfig[] {
  if (!Array.isArray(value)) {
    throw new FormatError({ expected: 'an array of routes', value });
  }
  return value.map((raw, i) => parseRoute(raw, `[${i}]`));
}

export const routesFormat: FormatSpec<RouteConfig[]> = {
  describe: 'JSON array of routes',
  coerce: coerceJson,
  parse: parseRoutes,
};
