import type { RouteConfig, TimeUnit } from '../route/Route.ts';
import { isWritableName } from '../lineprotocol/isWritableName.ts';
import { LineBuilder } from '../lineprotocol/LineBuilder.ts';
import { parseLine } from '../lineprotocol/parseLine.ts';
import { splitLines } from '../lineprotocol/splitLines.ts';
import type { Captures } from '../topic/TopicPattern.ts';
import { type Decoded, type Decoder, type Rejected, rejected } from './Decoder.ts';
import { parseTime } from './parseTime.ts';
import { DEFAULT_LIMITS, overBytes, type PointLimits } from './PointLimits.ts';
import type { PointStamp } from './PointStamp.ts';

/**
 * `line` payloads: one or more line protocol lines (empty and '#' comment lines skipped), each validated and
 * rewritten in the gateway's one canonical form (sorted tags/fields, integers without leading zeros, µs timestamps).
 * Route tags then the gateway tag override tags of the same key in the payload.
 * Payload timestamps are read in route.timeUnit, where `auto` (and `iso`, meaningless here) mean nanoseconds,
 * line protocol's default precision; a line without one gets the arrival time.
 */
export class LineDecoder implements Decoder {
  readonly #stamp: PointStamp;
  readonly #unit: TimeUnit;
  readonly #limits: PointLimits;
  readonly #line = new LineBuilder();

  constructor(route: RouteConfig, stamp: PointStamp, limits: PointLimits = DEFAULT_LIMITS) {
    this.#stamp = stamp;
    this.#unit = route.timeUnit === 'auto' || route.timeUnit === 'iso' ? 'ns' : route.timeUnit;
    this.#limits = limits;
  }

  decode(payload: Buffer, captures: Captures, arrivalUs: number): Decoded | Rejected {
    const stamp = this.#stamp;
    const limits = this.#limits;
    // Rendered once per message, applied to every line.
    const tagError = stamp.prepareTags(captures);
    if (tagError !== undefined) return rejected('bad_name', tagError);
    const lines = splitLines(payload.toString('utf8'));
    const builder = this.#line;
    let out = '';
    let points = 0;
    for (let n = 0; n < lines.length; n++) {
      const text = lines[n]!;
      if (isBlankOrComment(text)) continue;
      const parsed = parseLine(text);
      if (!parsed.ok) return rejected('bad_line', `line ${n + 1}: ${parsed.error}`);
      const { measurement, tags, fields } = parsed.line;
      if (fields.length > limits.maxFields) {
        return rejected('too_many_fields', `line ${n + 1}: ${fields.length} fields > ${limits.maxFields}`);
      }
      const nameError = checkName(measurement, 'measurement', limits) ?? checkTags(tags, limits);
      if (nameError !== undefined) return rejected(nameError[0], `line ${n + 1}: ${nameError[1]}`);
      builder.reset();
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const bad = checkName(f.name, 'field key', limits);
        if (bad !== undefined) return rejected(bad[0], `line ${n + 1}: ${bad[1]}`);
        switch (f.kind) {
          case 'float':
            builder.float(f.name, f.value);
            break;
          case 'int':
          case 'uint':
            // The exact digits: int64/uint64 beyond 2^53 do not fit a JS number.
            builder.integer(f.name, f.value, f.kind === 'int');
            break;
          case 'bool':
            builder.bool(f.name, f.value);
            break;
          case 'string':
            if (overBytes(f.value, limits.maxStringBytes)) {
              return rejected('too_long', `line ${n + 1}: string field "${preview(f.name)}" is longer than ${limits.maxStringBytes} bytes`);
            }
            builder.string(f.name, f.value);
            break;
        }
      }
      let us = arrivalUs;
      if (parsed.line.timestamp !== undefined) {
        const t = parseTime(parsed.line.timestamp, this.#unit);
        if (t === undefined)
          return rejected('bad_time', `line ${n + 1}: timestamp ${parsed.line.timestamp} is not a time (unit ${this.#unit})`);
        us = t;
      }
      const line = builder.line(stamp.seriesWith(measurement, tags), String(us));
      out = points === 0 ? line : `${out}\n${line}`;
      points++;
    }
    if (points === 0) return rejected('bad_line', 'no lines in the payload');
    return { kind: 'decoded', lines: out, points };
  }
}

type NameError = readonly ['bad_name' | 'too_long', string];

function checkTags(tags: ReadonlyArray<readonly [string, string]>, limits: PointLimits): NameError | undefined {
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]!;
    const bad = checkName(tag[0], 'tag key', limits) ?? checkName(tag[1], `value of tag "${preview(tag[0])}"`, limits);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function checkName(name: string, what: string, limits: PointLimits): NameError | undefined {
  if (overBytes(name, limits.maxNameBytes)) return ['too_long', `${what} "${preview(name)}" is longer than ${limits.maxNameBytes} bytes`];
  if (!isWritableName(name)) return ['bad_name', `${what} ${JSON.stringify(name)} cannot be written back as line protocol`];
  return undefined;
}

function preview(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

/** Whether a line is empty, whitespace, or a '#' comment after optional leading whitespace (InfluxDB's: space, tab, NUL; CR for CRLF payloads). */
function isBlankOrComment(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 0) continue;
    return c === 35; // '#'
  }
  return true;
}
