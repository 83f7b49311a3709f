/**
 * The bulk run's message generator: message `index` of a run with `seed` is a random device message together with
 * what the gateway must make of it (written as N points to which sinks, rejected with which reason, or unrouted).
 * Every message has exactly one defect (or none), so its outcome does not depend on the order of the decoder's checks.
 *
 * Points are countable in the sinks: every accepted point carries the field `bulkseq` (unique per point) and a
 * timestamp unique per series (VictoriaMetrics keeps one sample per series and millisecond), so the samples of
 * `*_bulkseq` in VictoriaMetrics equal the points written.
 *
 * VictoriaMetrics 1.79.5 (the InfluxDB stand-in) skips some valid line protocol: a string field value holding a raw
 * newline (it splits lines before parsing quotes), and a string field whose key contains `"`. InfluxDB reads both.
 * Messages with such fields go to `raw/…`, a json route to Redis only, so both sinks' counts stay exact.
 */
import { int, messageRng, pick, type Rng } from './prng.ts';
import type { RejectReason } from '../../src/pipeline/RouteResult.ts';
import type { RouteConfig } from '../../src/config/Config.ts';

/** Payloads above this are `too_large` (the run sets mqtt.maxPayloadBytes to it). */
export const MAX_PAYLOAD_BYTES = 8192;
/** Time of point 0 (2024-01-01T00:00:00Z); point p is stamped T0 + p ms. */
export const T0_MS = 1_704_067_200_000;
export const MARKER = 'bulkseq';

const defaults = {
  measurement: '{measurement}',
  tags: { device: '{device}' },
  fields: [],
  flatten: false,
  timeField: 'ts',
  timeUnit: 'ms',
  sinks: [],
} as const;

/** The routes of the run. `num/…` goes to Redis only: its points take the arrival time, which is not unique per millisecond. */
export const BULK_ROUTES: readonly RouteConfig[] = [
  { ...defaults, topic: 'sensors/{device}/{measurement}', format: 'json' },
  { ...defaults, topic: 'flat/{device}/{measurement}', format: 'json', flatten: true },
  { ...defaults, topic: 'num/{device}/{measurement}', format: 'number', sinks: ['redis'] },
  { ...defaults, topic: 'raw/{device}/{measurement}', format: 'json', sinks: ['redis'] },
  { ...defaults, topic: 'line/{line}', format: 'line', measurement: '', tags: { line: '{line}' } },
];
export const BULK_SUBSCRIPTIONS = ['sensors/#', 'flat/#', 'num/#', 'raw/#', 'line/#', 'other/#'];

export type Expectation =
  | { readonly kind: 'ok'; readonly influx: number; readonly redis: number }
  | { readonly kind: 'rejected'; readonly reason: RejectReason }
  | { readonly kind: 'unrouted' };

export interface BulkMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** Which generator case made it (for the coverage table). */
  readonly kase: string;
  readonly expect: Expectation;
}

// Topic levels never hold `/`, `+`, `#`, NUL or control characters (MQTT forbids or brokers refuse them).
const DEVICES = ['dev1', 'dev2', 'dev3', 'Küche', 'living room', 'a,b', 'x=y', 'q"uote', 'emoji🔥', 'back\\slash', 'even\\\\,run', ''];
const MEASUREMENTS = ['climate', 'power', 'Küche temp', 'a,b=c', 'emoji🌡', 'q"uote', 'back\\slash'];
/** Tag values or measurements the writer refuses (docs/line-protocol.md): `bad_name`. */
const BAD_LEVELS = ['bad\\', 'a\\,b', 'sp\\ ace', 'eq\\=x', '__proto__', 'odd\\\\\\'];
const UNROUTED_TOPICS = ['sensors/a', 'sensors/a/b/c', 'other/x', 'other/x/y/z', 'flat/a', 'num/a/b/c', 'line', 'line/a/b'];
// No control characters in names: a name holding one is `bad_name` (see docs/line-protocol.md); BAD_KEYS has some.
const NAME_PIECES = ['a', 'b', 'z', 'T', '7', ' ', ',', '=', '"', 'é', 'ü', '中', '🌡', '\\x', '.', '-', '_', "'"];
const TEXT_PIECES = [...NAME_PIECES, '\n', '\t', '\\', '"q"', 'NaN', 'Infinity', '-Infinity', '1e3', '\r\n', '\u0000', '\u2028'];
const NUMBER_TOKENS = ['1e308', '-1e308', '5e-324', '-0', '12345678901234567890', '1e400', '0.1', '-273.15', '0'];
/** String tokens written raw: escapes JSON.stringify would not produce. */
const RAW_STRINGS = ['"\\ud800"', '"\\u00e9\\n\\t\\\\"', '"a\\"b"', '"\\ud83d\\ude00"', '"\\/"'];
/** Invalid UTF-8 inside a JSON string: decoded as U+FFFD, the message stays valid. */
const BAD_UTF8 = [
  Buffer.from([0x22, 0xff, 0xfe, 0x78, 0x22]),
  Buffer.from([0x22, 0x61, 0xc3, 0x22]),
  Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]),
];

const BAD_JSON = ['{"a":1', '{"a":}', "{'a':1}", '', ' ', 'NaN', '{"a":NaN}', 'undefined', '{"a":1}}', '{"a" 1}', '[1,', '\u0000'];
const NOT_OBJECT = ['[1,2]', '42', '"str"', 'null', 'true', '[]', '-0', '[{"a":1}]', ' 7 '];
const BAD_NUMBER = ['NaN', 'Infinity', '-Infinity', '0x1f', '1_000', '1e999', '', 'abc', '1,5', '--1', '+1', 'TRUE', '.', '1 2', '{"v":1}'];
const GOOD_NUMBER = ['21.5', '-3', '1e3', 'true', 'false', ' 42 ', '0', '.5', '5.', '-0.0001', '12345678901234567890', '1e308'];
const BAD_TIME = ['-1', '"abc"', 'true', '1e20', '"2024-01-01T00:00:00Z"', '{}', '[]', '"NaN"', '"-5"', '1e400', '9007199254740992'];
const BAD_KEYS = ['#x', '__proto__', 'x\\', 'a\\,b', 'a\\ b', 'k\\=v', 'new\nline', 'tab\tkey', 'x\\\\'];
const NO_FIELDS = ['{}', '{"a":null}', '{"b":{"c":1},"a":null}', '{"":1}', '{"x":1e400}', '{"arr":[1,2]}'];
const BAD_LINE = ['m', 'm,t=1', 'm f=', '', '# only a comment', '\n\n', 'm f="open', 'm,t f=1'];

interface Case {
  readonly weight: number;
  readonly make: (rng: Rng, index: number) => BulkMessage;
}

/** Weights per 1000 messages. */
const CASES: Record<string, Case> = {
  json: { weight: 470, make: (rng, i) => jsonAny(rng, i) },
  json_at_limit: { weight: 5, make: (rng, i) => atLimit(rng, i) },
  json_arrival_time: { weight: 10, make: (rng, i) => arrivalTime(rng, i) },
  json_seconds_as_ms: { weight: 10, make: (rng, i) => jsonOk('json_seconds_as_ms', rng, i, String(T0_MS / 1000 + 2 * i)) },
  flatten: { weight: 50, make: (rng, i) => flattenOk(rng, i) },
  number: { weight: 80, make: (rng) => msg('number', numTopic(rng), pick(rng, GOOD_NUMBER), { kind: 'ok', influx: 0, redis: 1 }) },
  line: { weight: 40, make: (rng, i) => lineOk(rng, i) },
  bad_json: { weight: 50, make: (rng) => badJson(rng) },
  not_object: { weight: 30, make: (rng) => msg('not_object', jsonTopic(rng), pick(rng, NOT_OBJECT), rejected('not_object')) },
  bad_number: { weight: 30, make: (rng) => badNumber(rng) },
  bad_time: { weight: 30, make: (rng, i) => jsonWith('bad_time', rng, i, pick(rng, BAD_TIME), [], rejected('bad_time')) },
  bad_name_topic: { weight: 30, make: (rng, i) => badNameTopic(rng, i) },
  bad_name_field: { weight: 20, make: (rng, i) => badNameField(rng, i) },
  too_deep: { weight: 20, make: (rng, i) => tooDeep(rng, i) },
  too_many_fields: { weight: 10, make: (rng) => tooManyFields(rng) },
  too_long: { weight: 10, make: (rng) => tooLong(rng) },
  too_large: { weight: 25, make: (rng) => tooLarge(rng) },
  no_fields: { weight: 20, make: (rng) => msg('no_fields', jsonTopic(rng), pick(rng, NO_FIELDS), rejected('no_fields')) },
  bad_line: {
    weight: 20,
    make: (rng) =>
      msg(
        'bad_line',
        `line/${pick(
          rng,
          DEVICES.filter((d) => d !== ''),
        )}`,
        pick(rng, BAD_LINE),
        rejected('bad_line'),
      ),
  },
  unrouted: { weight: 60, make: (rng) => unrouted(rng) },
};
export const CASE_NAMES = Object.keys(CASES);
const TOTAL_WEIGHT = Object.values(CASES).reduce((s, c) => s + c.weight, 0);

/** Message `index` of the run `seed`. */
export function generateMessage(seed: number, index: number): BulkMessage {
  const rng = messageRng(seed, index);
  let r = rng() * TOTAL_WEIGHT;
  for (const c of Object.values(CASES)) {
    r -= c.weight;
    if (r < 0) return c.make(rng, index);
  }
  return CASES.json!.make(rng, index);
}

function rejected(reason: RejectReason): Expectation {
  return { kind: 'rejected', reason };
}

function msg(kase: string, topic: string, payload: string | Buffer, expect: Expectation): BulkMessage {
  return { topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, kase, expect };
}

const jsonTopic = (rng: Rng): string => `sensors/${pick(rng, DEVICES)}/${pick(rng, MEASUREMENTS)}`;
const numTopic = (rng: Rng): string => `num/${pick(rng, DEVICES)}/${pick(rng, MEASUREMENTS)}`;
/** Point p's time; a message's points are 2i and 2i + 1. */
const tsToken = (i: number, p = 0): string => String(T0_MS + 2 * i + p);

function text(rng: Rng, pieces: readonly string[], max: number): string {
  let s = '';
  for (let n = int(rng, max + 1); n > 0; n--) s += pick(rng, pieces);
  return s;
}

/** A field name that is always safe: starts with `f` (never `#`, `ts`, `__proto__` or empty), backslashes only before a letter. */
function fieldName(rng: Rng): string {
  const name = `f${text(rng, NAME_PIECES, 8)}`;
  return name.includes(MARKER) ? 'f' : name;
}

/** A random JSON value token (a Buffer when it holds invalid UTF-8). */
function valueToken(rng: Rng): string | Buffer {
  const r = rng();
  if (r < 0.3) return String(Math.round((rng() * 2000 - 1000) * 10 ** int(rng, 4)) / 10 ** int(rng, 4));
  if (r < 0.4) return pick(rng, NUMBER_TOKENS);
  if (r < 0.5) return rng() < 0.5 ? 'true' : 'false';
  if (r < 0.75) return JSON.stringify(text(rng, TEXT_PIECES, 12));
  if (r < 0.82) return pick(rng, RAW_STRINGS);
  if (r < 0.88) return pick(rng, BAD_UTF8);
  if (r < 0.92) return 'null';
  return pick(rng, ['{"x":1}', '[1,2,3]', '{"a":{"b":"c"}}', '[]']);
}

/** Whether VictoriaMetrics 1.79.5 would skip a line with this field (see the top of the file); conservative. */
function vmUnreadable(name: string, token: string | Buffer): boolean {
  if (name.includes('"')) return true;
  return typeof token === 'string' && token.startsWith('"') && (JSON.parse(token) as string).includes('\n');
}

let lastUnreadable = false;

/**
 * `{"bulkseq":…, <random fields>, "ts":…}` with the given time token (omitted when undefined) and extra raw entries.
 * `readable`: leave out fields VictoriaMetrics cannot read; otherwise `lastUnreadable` says whether there was one.
 */
function jsonPayload(rng: Rng, seq: number, ts: string | undefined, extra: readonly string[], random = true, readable = true): Buffer {
  lastUnreadable = false;
  const parts: (string | Buffer)[] = ['{'];
  const entries: (string | Buffer)[][] = [[`"${MARKER}":${seq}`]];
  if (ts !== undefined) entries.push([`"ts":${ts}`]);
  for (const e of extra) entries.push([e]);
  if (random) {
    const names = new Set<string>();
    for (let n = int(rng, 6); n > 0; n--) names.add(fieldName(rng));
    for (const name of names) {
      const token = valueToken(rng);
      if (vmUnreadable(name, token)) {
        if (readable) continue;
        lastUnreadable = true;
      }
      entries.push([`${JSON.stringify(name)}:`, token]);
    }
  }
  // Shuffle so the marker and the time are anywhere in the object.
  for (let k = entries.length - 1; k > 0; k--) {
    const j = int(rng, k + 1);
    [entries[k], entries[j]] = [entries[j]!, entries[k]!];
  }
  entries.forEach((e, k) => {
    parts.push(...(k === 0 ? e : [',', ...e]));
  });
  parts.push('}');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

/** Any fields at all: those VictoriaMetrics cannot read go to the Redis-only route. */
function jsonAny(rng: Rng, i: number): BulkMessage {
  const device = pick(rng, DEVICES);
  const measurement = pick(rng, MEASUREMENTS);
  const payload = jsonPayload(rng, 2 * i, tsToken(i), [], true, false);
  if (lastUnreadable) return msg('json_redis_only', `raw/${device}/${measurement}`, payload, { kind: 'ok', influx: 0, redis: 1 });
  return msg('json', `sensors/${device}/${measurement}`, payload, { kind: 'ok', influx: 1, redis: 1 });
}

function jsonOk(kase: string, rng: Rng, i: number, ts: string): BulkMessage {
  return msg(kase, jsonTopic(rng), jsonPayload(rng, 2 * i, ts, []), { kind: 'ok', influx: 1, redis: 1 });
}

function jsonWith(kase: string, rng: Rng, i: number, ts: string, extra: readonly string[], expect: Expectation): BulkMessage {
  return msg(kase, jsonTopic(rng), jsonPayload(rng, 2 * i, ts, extra), expect);
}

/** Valid, padded to exactly MAX_PAYLOAD_BYTES: the limit itself is allowed. */
function atLimit(rng: Rng, i: number): BulkMessage {
  const base = jsonPayload(rng, 2 * i, tsToken(i), ['"fpad":""']);
  const pad = MAX_PAYLOAD_BYTES - base.length;
  const text = base.toString('latin1').replace('"fpad":""', `"fpad":"${'x'.repeat(pad)}"`);
  return msg('json_at_limit', jsonTopic(rng), Buffer.from(text, 'latin1'), { kind: 'ok', influx: 1, redis: 1 });
}

/** No time (or null): the arrival time is used, which is not unique per ms, so the device is unique to the message. */
function arrivalTime(rng: Rng, i: number): BulkMessage {
  const payload = jsonPayload(rng, 2 * i, rng() < 0.5 ? undefined : 'null', []);
  return msg('json_arrival_time', `sensors/arrival-${i}/${pick(rng, MEASUREMENTS)}`, payload, { kind: 'ok', influx: 1, redis: 1 });
}

/** Objects nested `depth` levels below the root (the innermost one at depth `depth`). */
function nested(depth: number, leaf: string): string {
  return '{"n":'.repeat(depth - 1) + `{"v":${leaf}}` + '}'.repeat(depth - 1);
}

function flattenOk(rng: Rng, i: number): BulkMessage {
  const extra = [`"deep":${nested(1 + int(rng, 32), String(rng()))}`, '"arr":[1,{"x":true},["s"]]'];
  const topic = `flat/${pick(rng, DEVICES)}/${pick(rng, MEASUREMENTS)}`;
  return msg('flatten', topic, jsonPayload(rng, 2 * i, tsToken(i), extra), { kind: 'ok', influx: 1, redis: 1 });
}

/** Past mqtt.maxFieldsPerPoint (default 1000). */
function tooManyFields(rng: Rng): BulkMessage {
  const n = 1001 + int(rng, 50);
  // Short keys and values: ~7 bytes a field keeps it under MAX_PAYLOAD_BYTES.
  const payload = `{${Array.from({ length: n }, (_, k) => `"${k.toString(36)}":0`).join(',')}}`;
  return msg('too_many_fields', jsonTopic(rng), payload, rejected('too_many_fields'));
}

/** Past mqtt.maxTopicBytes (1024) or maxNameBytes (512), with the default limits (a long string would be too_large here). */
function tooLong(rng: Rng): BulkMessage {
  if (rng() < 0.5) return msg('too_long', `sensors/${'d'.repeat(1025 + int(rng, 100))}/climate`, '{"t":1}', rejected('too_long'));
  return msg('too_long', jsonTopic(rng), `{"${'k'.repeat(513 + int(rng, 100))}":1}`, rejected('too_long'));
}

function tooDeep(rng: Rng, i: number): BulkMessage {
  const topic = `flat/${pick(rng, DEVICES)}/${pick(rng, MEASUREMENTS)}`;
  const extra = [`"deep":${nested(33 + int(rng, 300), '1')}`];
  return msg('too_deep', topic, jsonPayload(rng, 2 * i, tsToken(i), extra, false), rejected('too_deep'));
}

function lineOk(rng: Rng, i: number): BulkMessage {
  const count = 1 + int(rng, 2);
  const lines: string[] = [];
  for (let p = 0; p < count; p++) {
    const m = pick(rng, ['press', 'my\\ meas', 'a\\,b', 'Küche', 'emoji🌡']);
    const tag = pick(rng, ['s1', 's\\ 2', 'x\\=y', 'ü']);
    lines.push(
      `${m},st=${tag} ${MARKER}=${2 * i + p},v=${(rng() * 100).toFixed(3)},c=${int(rng, 1e6)}i,s="q\\"uote \\\\ ok",b=true ${tsToken(i, p)}`,
    );
  }
  if (rng() < 0.3) lines.splice(1, 0, '# a comment', '');
  const topic = `line/${pick(
    rng,
    DEVICES.filter((d) => d !== ''),
  )}`;
  return msg('line', topic, lines.join(rng() < 0.5 ? '\n' : '\r\n'), { kind: 'ok', influx: count, redis: count });
}

function badJson(rng: Rng): BulkMessage {
  if (rng() < 0.3) {
    // Binary: a leading 0xff decodes to U+FFFD, which no JSON text starts with.
    const bytes = Buffer.alloc(1 + int(rng, 200));
    for (let k = 0; k < bytes.length; k++) bytes[k] = int(rng, 256);
    bytes[0] = 0xff;
    return msg('bad_json', jsonTopic(rng), bytes, rejected('bad_json'));
  }
  return msg('bad_json', jsonTopic(rng), pick(rng, BAD_JSON), rejected('bad_json'));
}

function badNumber(rng: Rng): BulkMessage {
  const payload = rng() < 0.2 ? Buffer.from([0xff, 0x31, 0x00]) : pick(rng, BAD_NUMBER);
  return msg('bad_number', numTopic(rng), payload, rejected('bad_number'));
}

function badNameTopic(rng: Rng, i: number): BulkMessage {
  const bad = pick(rng, BAD_LEVELS);
  const r = rng();
  if (r < 0.4)
    return msg(
      'bad_name_topic',
      `sensors/${bad}/${pick(rng, MEASUREMENTS)}`,
      jsonPayload(rng, 2 * i, tsToken(i), []),
      rejected('bad_name'),
    );
  if (r < 0.6)
    return msg(
      'bad_name_topic',
      `sensors/${pick(rng, DEVICES)}/${rng() < 0.8 ? bad : ''}`,
      jsonPayload(rng, 2 * i, tsToken(i), []),
      rejected('bad_name'),
    );
  if (r < 0.8) return msg('bad_name_topic', `num/${bad}/${pick(rng, MEASUREMENTS)}`, pick(rng, GOOD_NUMBER), rejected('bad_name'));
  return msg('bad_name_topic', `line/${bad}`, `m ${MARKER}=1 ${tsToken(i)}`, rejected('bad_name'));
}

function badNameField(rng: Rng, i: number): BulkMessage {
  const key = JSON.stringify(pick(rng, BAD_KEYS));
  return jsonWith('bad_name_field', rng, i, tsToken(i), [`${key}:${pick(rng, ['1', 'true', '"s"'])}`], rejected('bad_name'));
}

function tooLarge(rng: Rng): BulkMessage {
  const size = MAX_PAYLOAD_BYTES + 1 + (rng() < 0.2 ? 0 : int(rng, 2 * MAX_PAYLOAD_BYTES));
  const payload = rng() < 0.5 ? Buffer.from(`{"v":"${'x'.repeat(size - 8)}"}`) : Buffer.alloc(size, int(rng, 256));
  const topic = pick(rng, [jsonTopic(rng), numTopic(rng), 'line/l1', `flat/d/m`, pick(rng, UNROUTED_TOPICS)]);
  return msg('too_large', topic, payload, rejected('too_large'));
}

function unrouted(rng: Rng): BulkMessage {
  const payload = rng() < 0.2 ? Buffer.from([0xff, 0xfe, 0x00]) : rng() < 0.5 ? '{"t":1}' : pick(rng, BAD_JSON);
  return msg('unrouted', pick(rng, UNROUTED_TOPICS), payload, { kind: 'unrouted' });
}
