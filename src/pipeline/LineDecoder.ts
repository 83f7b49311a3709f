import { Point } from '../sinks/influx/influxClient.ts';
import type { RouteConfig, TimeUnit } from '../config/Config.ts';
import { type Decoded, type Decoder, type Rejected, rejected } from './Decoder.ts';
import { isSafeName } from './isSafeName.ts';
import { parseLine } from './lineProtocol.ts';
import { splitLines } from './splitLines.ts';
import { parseTime } from './parseTime.ts';
import type { PointStamp } from './PointStamp.ts';
import type { Captures } from './TopicPattern.ts';

/**
 * `line` payloads: one or more line protocol lines (empty and '#' comment lines skipped), each validated and
 * rebuilt through Point so the output has one canonical form (sorted tags/fields, µs timestamps).
 * Route tags then the gateway tag override tags of the same key in the payload.
 * Payload timestamps are read in route.timeUnit, where `auto` (and `iso`, meaningless here) mean nanoseconds,
 * line protocol's default precision; a line without one gets the arrival time.
 */
export class LineDecoder implements Decoder {
  readonly #stamp: PointStamp;
  readonly #unit: TimeUnit;

  constructor(route: RouteConfig, stamp: PointStamp) {
    this.#stamp = stamp;
    this.#unit = route.timeUnit === 'auto' || route.timeUnit === 'iso' ? 'ns' : route.timeUnit;
  }

  decode(payload: Buffer, captures: Captures, arrivalUs: number): Decoded | Rejected {
    const stamp = this.#stamp;
    // Rendered once per message, applied to every line.
    const tagError = stamp.prepareTags(captures);
    if (tagError !== undefined) return rejected('bad_name', tagError);
    const lines = splitLines(payload.toString('utf8'));
    let out = '';
    let points = 0;
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n]!;
      if (isBlankOrComment(line)) continue;
      const parsed = parseLine(line);
      if (typeof parsed === 'string') return rejected('bad_line', `line ${n + 1}: ${parsed}`);
      if (!isSafeName(parsed.measurement)) return rejected('bad_name', `line ${n + 1}: measurement "${parsed.measurement}" cannot be written back`);
      const point = new Point(parsed.measurement);
      const tags = parsed.tags;
      for (let i = 0; i < tags.length; i++) {
        const tag = tags[i]!;
        if (!isSafeName(tag[0]) || !isSafeName(tag[1])) return rejected('bad_name', `line ${n + 1}: tag "${tag[0]}" cannot be written back`);
        point.tag(tag[0], tag[1]);
      }
      stamp.applyTags(point);
      const fields = parsed.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        if (!isSafeName(f.name)) return rejected('bad_name', `line ${n + 1}: field key "${f.name}" cannot be written back`);
        switch (f.kind) {
          case 'float':
            point.floatField(f.name, f.value);
            break;
          case 'int':
            // Point.intField goes through a JS number and would round int64 values beyond 2^53: set the exact text.
            point.fields[f.name] = `${f.value}i`;
            break;
          case 'uint':
            point.uintField(f.name, f.value); // the string form is checked and kept exact
            break;
          case 'bool':
            point.booleanField(f.name, f.value);
            break;
          case 'string':
            point.stringField(f.name, f.value);
            break;
        }
      }
      let us = arrivalUs;
      if (parsed.timestamp !== undefined) {
        const t = parseTime(parsed.timestamp, this.#unit);
        if (t === undefined) return rejected('bad_time', `line ${n + 1}: timestamp ${parsed.timestamp} is not a time (unit ${this.#unit})`);
        us = t;
      }
      point.timestamp(String(us));
      out = points === 0 ? point.toLineProtocol()! : `${out}\n${point.toLineProtocol()!}`;
      points++;
    }
    if (points === 0) return rejected('bad_line', 'no lines in the payload');
    return { kind: 'decoded', lines: out, points };
  }
}

/** Whether a line is empty, whitespace, or a '#' comment after optional leading whitespace. */
function isBlankOrComment(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) continue; // space, tab, CR
    return c === 35; // '#'
  }
  return true;
}
