import { REJECT_REASONS, type RejectReason } from '../../pipeline/RouteResult.ts';
import type { MessageProperties } from '../../explain/MessageExplainer.ts';

/** A field value as a test expects it: numbers match float, integer and unsigned fields by value. */
export type ExpectedValue = number | string | boolean;

export interface ExpectedPoint {
  readonly measurement?: string;
  /** Tags that must be on the point with these values (others may be there too). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Fields that must be on the point with these values (others may be there too). */
  readonly fields?: Readonly<Record<string, ExpectedValue>>;
  /** Tag keys and field names that must not be on the point. */
  readonly absent?: readonly string[];
  /** The point's time, epoch ms, compared at the written precision (µs). */
  readonly time?: number;
}

export type Expectation =
  | { readonly kind: 'points'; readonly points: readonly ExpectedPoint[]; readonly sinks: readonly string[] | undefined }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string | undefined }
  | { readonly kind: 'unrouted' };

/** One route test: a message and what the configured routes must make of it. */
export interface RouteTestCase {
  readonly name: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly properties: MessageProperties | undefined;
  /** Arrival time, epoch ms. */
  readonly receivedAt: number;
  readonly expect: Expectation;
}

/** Arrival time of cases that give none: fixed, so expected times of payloads without one are stable. */
export const DEFAULT_RECEIVED_AT = Date.parse('2025-01-15T12:00:00.123Z');

/** A test file that cannot be used, with the place of the problem (`cases[2].expect: …`). */
export class RouteTestFileError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Reads a route test file: `{"receivedAt"?, "cases": [...]}` or the array of cases alone. Every key is checked:
 * an unknown or misspelt one is an error, never ignored (a typo must not make a test pass).
 */
export function parseRouteTests(text: string): RouteTestCase[] {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (error) {
    throw new RouteTestFileError(`not JSON: ${(error as Error).message}`);
  }
  let receivedAt = DEFAULT_RECEIVED_AT;
  let cases: Json;
  if (Array.isArray(doc)) cases = doc;
  else {
    const top = object(doc, '(file)', ['cases', 'receivedAt', 'description']);
    if (top.receivedAt !== undefined) receivedAt = time(top.receivedAt, 'receivedAt');
    cases = top.cases ?? null;
  }
  if (!Array.isArray(cases) || cases.length === 0) throw new RouteTestFileError('cases: expected a non-empty array of test cases');
  return cases.map((c, i) => parseCase(c, `cases[${i}]`, receivedAt));
}

function parseCase(value: Json, at: string, defaultReceivedAt: number): RouteTestCase {
  const c = object(value, at, ['name', 'topic', 'payload', 'payloadBase64', 'properties', 'receivedAt', 'expect']);
  if (typeof c.topic !== 'string' || c.topic === '') throw new RouteTestFileError(`${at}.topic: expected the message's topic`);
  if (c.payload !== undefined && c.payloadBase64 !== undefined)
    throw new RouteTestFileError(`${at}: give payload or payloadBase64, not both`);
  let payload: Buffer;
  if (c.payloadBase64 !== undefined) {
    if (typeof c.payloadBase64 !== 'string') throw new RouteTestFileError(`${at}.payloadBase64: expected a base64 string`);
    payload = Buffer.from(c.payloadBase64, 'base64');
  } else if (c.payload === undefined) throw new RouteTestFileError(`${at}.payload: missing (a string, or JSON that is sent serialised)`);
  else payload = Buffer.from(typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload), 'utf8');
  if (c.name !== undefined && typeof c.name !== 'string') throw new RouteTestFileError(`${at}.name: expected a string`);
  return {
    name: (c.name as string | undefined) ?? `${at} ${c.topic}`,
    topic: c.topic,
    payload,
    properties: c.properties === undefined ? undefined : parseProperties(c.properties, `${at}.properties`),
    receivedAt: c.receivedAt === undefined ? defaultReceivedAt : time(c.receivedAt, `${at}.receivedAt`),
    expect: parseExpect(c.expect ?? null, `${at}.expect`),
  };
}

function parseProperties(value: Json, at: string): MessageProperties {
  const p = object(value, at, ['contentType', 'userProperties']);
  if (p.contentType !== undefined && typeof p.contentType !== 'string')
    throw new RouteTestFileError(`${at}.contentType: expected a string`);
  let userProperties: Record<string, string | string[]> | undefined;
  if (p.userProperties !== undefined) {
    userProperties = {};
    for (const [k, v] of Object.entries(object(p.userProperties, `${at}.userProperties`))) {
      const ok = typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (!ok) throw new RouteTestFileError(`${at}.userProperties.${k}: expected a string or an array of strings`);
      userProperties[k] = v as string | string[];
    }
  }
  return {
    ...(p.contentType === undefined ? {} : { contentType: p.contentType as string }),
    ...(userProperties ? { userProperties } : {}),
  };
}

function parseExpect(value: Json, at: string): Expectation {
  const e = object(value, at, ['points', 'sinks', 'rejected', 'detail', 'unrouted']);
  const given = ['points', 'rejected', 'unrouted'].filter((k) => e[k] !== undefined);
  if (given.length !== 1)
    throw new RouteTestFileError(`${at}: expected exactly one of "points", "rejected" or "unrouted", got ${given.length}`);
  if (e.unrouted !== undefined) {
    if (e.unrouted !== true) throw new RouteTestFileError(`${at}.unrouted: expected true`);
    return { kind: 'unrouted' };
  }
  if (e.rejected !== undefined) {
    const reason = REJECT_REASONS.find((r) => r === e.rejected);
    if (reason === undefined)
      throw new RouteTestFileError(`${at}.rejected: expected one of ${REJECT_REASONS.join(', ')}, got ${JSON.stringify(e.rejected)}`);
    if (e.detail !== undefined && typeof e.detail !== 'string') throw new RouteTestFileError(`${at}.detail: expected a string`);
    return { kind: 'rejected', reason, detail: e.detail as string | undefined };
  }
  if (!Array.isArray(e.points)) throw new RouteTestFileError(`${at}.points: expected an array of points`);
  let sinks: string[] | undefined;
  if (e.sinks !== undefined) {
    if (!Array.isArray(e.sinks) || !e.sinks.every((s) => typeof s === 'string'))
      throw new RouteTestFileError(`${at}.sinks: expected sink names`);
    sinks = e.sinks as string[];
  }
  return { kind: 'points', points: e.points.map((p, i) => parsePoint(p, `${at}.points[${i}]`)), sinks };
}

function parsePoint(value: Json, at: string): ExpectedPoint {
  const p = object(value, at, ['measurement', 'tags', 'fields', 'absent', 'time']);
  if (p.measurement !== undefined && typeof p.measurement !== 'string')
    throw new RouteTestFileError(`${at}.measurement: expected a string`);
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.tags === undefined ? {} : object(p.tags, `${at}.tags`))) {
    if (typeof v !== 'string') throw new RouteTestFileError(`${at}.tags.${k}: tag values are strings`);
    tags[k] = v;
  }
  const fields: Record<string, ExpectedValue> = {};
  for (const [k, v] of Object.entries(p.fields === undefined ? {} : object(p.fields, `${at}.fields`))) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new RouteTestFileError(`${at}.fields.${k}: expected a number, a string or a boolean`);
    fields[k] = v;
  }
  if (p.absent !== undefined && !(Array.isArray(p.absent) && p.absent.every((x) => typeof x === 'string')))
    throw new RouteTestFileError(`${at}.absent: expected tag keys and field names`);
  return {
    ...(p.measurement === undefined ? {} : { measurement: p.measurement as string }),
    ...(p.tags === undefined ? {} : { tags }),
    ...(p.fields === undefined ? {} : { fields }),
    ...(p.absent === undefined ? {} : { absent: p.absent as string[] }),
    ...(p.time === undefined ? {} : { time: time(p.time, `${at}.time`) }),
  };
}

/** Epoch ms, or an ISO 8601 time with a zone. */
function time(value: Json, at: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /(Z|[+-]\d{2}:?\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  throw new RouteTestFileError(`${at}: expected epoch milliseconds or an ISO 8601 time with a zone, got ${JSON.stringify(value)}`);
}

function object(value: Json, at: string, keys?: readonly string[]): Record<string, Json> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RouteTestFileError(`${at}: expected an object`);
  if (keys !== undefined) {
    const unknown = Object.keys(value).find((k) => !keys.includes(k));
    if (unknown !== undefined) throw new RouteTestFileError(`${at}: unknown key "${unknown}" (known: ${keys.join(', ')})`);
  }
  return value;
}
