/**
 * Parses the `routes` list into compiled routes: missing optional keys filled, the topic compiled into a
 * TopicPattern, the templates into Templates (src/topic) and the field paths into FieldPaths, each checked here and
 * nowhere else. The parse of `routes` in the config schema, so a bad route fails with a path like `[2].format` and
 * exit 78; the Router and the dry-run take the result as it is.
 */
import { FormatError } from '../errors/FormatError.ts';
import { isWritableName } from '../lineprotocol/isWritableName.ts';
import { isPropertyName, type MessageProperty, parseProperty } from '../topic/MessageProperty.ts';
import { SHARED_FILTER_EXPECTED } from '../topic/SharedFilter.ts';
import { Template } from '../topic/Template.ts';
import { TopicPattern } from '../topic/TopicPattern.ts';
import { FieldPath } from './FieldPath.ts';
import { parseDeadband } from './parseDeadband.ts';
import type { PayloadFormat, Route, RouteConfig, TimeUnit } from './Route.ts';

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

// `deadband` has no default (absent: no report by exception), so it is not in DEFAULT_ROUTE.
const ROUTE_KEYS = [...Object.keys(DEFAULT_ROUTE), 'deadband'] as (keyof RouteConfig)[];
const FORMATS: readonly PayloadFormat[] = ['json', 'number', 'line', 'sparkplug'];
const TIME_UNITS: readonly TimeUnit[] = ['auto', 's', 'ms', 'us', 'ns', 'iso'];
const TOPIC_EXPECTED = 'a topic pattern of literal levels, "+", "{name}", and as the last level "#" or "{name#}"';

/** What a template may name: the pattern's captures, then the route's properties (which this call may add to). */
interface TemplateNames {
  readonly pattern: TopicPattern;
  readonly properties: MessageProperty[];
  /** Set to the first key that reads a property. */
  firstKey: string;
}

/**
 * The template compiled against the pattern's captures and the MQTT 5 properties it names (each property a route
 * uses gets one slot after the captures); the one check a template gets (src/topic/Template.ts).
 */
function compileTemplate(template: string, names: TemplateNames, path: string, key: string): Template {
  const { pattern, properties } = names;
  const expectedNames = () => {
    const captured = pattern.names.length ? pattern.names.map((n) => `{${n}}`).join(', ') : 'none';
    return `a template using only names the topic captures (${captured}) or MQTT 5 properties ({$user.NAME}, {$contentType}), "{{" and "}}" for literal braces`;
  };
  try {
    for (const name of Template.namesIn(template)) {
      if (!isPropertyName(name) || properties.some((p) => p.name === name)) continue;
      properties.push(parseProperty(name));
      if (names.firstKey === '') names.firstKey = key;
    }
    return new Template(template, [...pattern.names, ...properties.map((p) => p.name)], pattern.names.length);
  } catch (error) {
    throw new FormatError({ path, expected: `${expectedNames()} (here ${(error as Error).message})`, value: template });
  }
}

/** A JSON field selection (`a.b`, `name=a.b`), compiled once here for the JsonDecoder. */
function compileFieldPath(spec: string, path: string, value: unknown, expected: string): FieldPath {
  try {
    return new FieldPath(spec);
  } catch (error) {
    throw new FormatError({ path, expected: `${expected} (here ${(error as Error).message})`, value });
  }
}

/** A name written as is into line protocol: checked here once, so the router never meets an unwritable one. */
function checkWritable(name: string, path: string, what: string): void {
  if (!isWritableName(name)) throw new FormatError({ path, expected: `${what} that can be written as line protocol`, value: name });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '');
}

function parseRoute(raw: unknown, at: string): Route {
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
  let pattern: TopicPattern;
  try {
    pattern = new TopicPattern(r.topic);
  } catch (error) {
    const expected = `${TOPIC_EXPECTED}, optionally after ${SHARED_FILTER_EXPECTED} (here ${(error as Error).message})`;
    throw new FormatError({ path: `${at}.topic`, expected, value: r.topic });
  }
  const captured = pattern.names;
  const names: TemplateNames = { pattern, properties: [], firstKey: '' };

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
  const measurementTemplate = format === 'line' ? undefined : compileTemplate(measurement, names, `${at}.measurement`, 'measurement');
  // Its properties are the first ones added: a message without one cannot be given a measurement.
  const measurementProperties = names.properties.map((_, i) => i);
  if (measurementTemplate?.isStatic) checkWritable(measurementTemplate.value, `${at}.measurement`, 'a measurement name');

  let tags = r.tags;
  if (tags === undefined) {
    // The default tags are single captures (`device: '{device}'`): kept when this topic captures that name.
    tags = Object.fromEntries(Object.entries(DEFAULT_ROUTE.tags).filter(([, t]) => captured.includes(t.slice(1, -1))));
  }
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw new FormatError({ path: `${at}.tags`, expected: 'an object of tag name → template', value: tags });
  }
  const tagTemplates: Template[] = [];
  for (const [name, template] of Object.entries(tags)) {
    if (name === '') throw new FormatError({ path: `${at}.tags`, expected: 'an object whose tag keys are not empty', value: tags });
    if (typeof template !== 'string') {
      throw new FormatError({ path: `${at}.tags.${name}`, expected: 'a tag template string', value: template });
    }
    checkWritable(name, `${at}.tags.${name}`, 'a tag key');
    const compiled = compileTemplate(template, names, `${at}.tags.${name}`, `tags.${name}`);
    if (compiled.isStatic) checkWritable(compiled.value, `${at}.tags.${name}`, 'a tag value');
    tagTemplates.push(compiled);
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
  // `$user.NAME`: the time comes from a user property, in any format whose payload may lack one.
  let timeProperty: MessageProperty | undefined;
  if (isPropertyName(timeField)) {
    const expected = `a dot path, "" for arrival time, or "$user.NAME" (an MQTT 5 user property)`;
    if (format === 'sparkplug') {
      throw new FormatError({
        path: `${at}.timeField`,
        expected: `not a property for format sparkplug (its payload carries the time)`,
        value: timeField,
      });
    }
    try {
      timeProperty = parseProperty(timeField);
    } catch (error) {
      throw new FormatError({ path: `${at}.timeField`, expected: `${expected} (here ${(error as Error).message})`, value: timeField });
    }
    if (timeProperty.kind !== 'user') throw new FormatError({ path: `${at}.timeField`, expected, value: timeField });
    if (names.firstKey === '') names.firstKey = 'timeField';
  }
  // Field paths are the json decoder's (other formats ignore fields and timeField, as they always have).
  const json = format === 'json';
  const timePath =
    json && timeField !== '' && timeProperty === undefined
      ? compileFieldPath(timeField, `${at}.timeField`, timeField, 'a dot path, or "" for arrival time')
      : undefined;
  // A selected field that is the time field would be excluded anyway: drop it now.
  const fieldPaths = (json ? fields : [])
    .map((f) => compileFieldPath(f, `${at}.fields`, fields, 'an array of non-empty dot paths'))
    .filter((f) => f.path !== timePath?.path);
  if (json && fields.length > 0 && fieldPaths.length === 0) {
    const expected = `fields other than the time field "${timeField}" (it is never a field; [] = every top-level value)`;
    throw new FormatError({ path: `${at}.fields`, expected, value: fields });
  }

  // The fields a per-field deadband rule may name, where the route decides them (not the payload).
  const fieldNames = json && fieldPaths.length > 0 ? fieldPaths.map((f) => f.name) : format === 'number' ? ['value'] : undefined;
  const deadband = r.deadband === undefined ? undefined : parseDeadband(r.deadband, `${at}.deadband`, fieldNames);

  const route: RouteConfig = {
    topic: r.topic,
    format: format as PayloadFormat,
    measurement,
    tags: tags as Record<string, string>,
    fields: [...fields],
    flatten,
    timeField,
    timeUnit: timeUnit as TimeUnit,
    sinks: [...sinks],
    ...(deadband === undefined ? {} : { deadband }),
  };
  // Non-enumerable, like a TLS block's files: print-config and deep-equal see the configured keys only.
  return Object.defineProperties(route as Route, {
    pattern: { value: pattern },
    measurementTemplate: { value: measurementTemplate },
    tagTemplates: { value: Object.freeze(tagTemplates) },
    fieldPaths: { value: Object.freeze(fieldPaths) },
    timePath: { value: timePath },
    properties: { value: Object.freeze(names.properties) },
    measurementProperties: { value: Object.freeze(measurementProperties) },
    timeProperty: { value: timeProperty },
    propertyKey: { value: names.firstKey },
  });
}

/** Throws FormatError with a path like `[2].format`. */
export function parseRoutes(value: unknown): Route[] {
  if (!Array.isArray(value)) {
    throw new FormatError({ expected: 'an array of routes', value });
  }
  return value.map((raw, i) => parseRoute(raw, `[${i}]`));
}
