import type { Explanation } from '../../explain/MessageExplainer.ts';
import { parseLine, type ParsedField, type ParsedLine } from '../../lineprotocol/parseLine.ts';
import type { ExpectedPoint, ExpectedValue, RouteTestCase } from './RouteTestCase.ts';

/** The outcome of one case: passed, or the differences as `- expected` / `+ got` lines. */
export interface CaseVerdict {
  readonly pass: boolean;
  readonly diff: readonly string[];
}

/** Compares what the routes made of the case's message with what the case expects. */
export function checkRouteCase(c: RouteTestCase, got: Explanation): CaseVerdict {
  const diff: string[] = [];
  const expect = c.expect;
  if (!got.subscribed && expect.kind !== 'unrouted')
    diff.push('- delivered by a subscription', '+ not subscribed: no filter of mqtt.subscriptions matches the topic');
  if (expect.kind === 'unrouted') {
    if (got.kind !== 'unrouted') diff.push('- unrouted', `+ ${describe(got)}`);
    return { pass: diff.length === 0, diff };
  }
  if (expect.kind === 'rejected') {
    if (got.kind !== 'rejected' || got.reason !== expect.reason) diff.push(`- rejected: ${expect.reason}`, `+ ${describe(got)}`);
    else if (expect.detail !== undefined && !got.detail.includes(expect.detail))
      diff.push(`- rejected: ${expect.reason} (detail containing ${JSON.stringify(expect.detail)})`, `+ ${describe(got)}`);
    return { pass: diff.length === 0, diff };
  }
  if (got.kind !== 'ok') {
    diff.push(`- ${expect.points.length} point(s)`, `+ ${describe(got)}`);
    return { pass: false, diff };
  }
  if (expect.sinks !== undefined) {
    const want = [...expect.sinks].sort().join(', ');
    const have = got.writes
      .map((w) => w.sink)
      .sort()
      .join(', ');
    if (want !== have) diff.push(`- sinks: ${want || '(none)'}`, `+ sinks: ${have || '(none)'}`);
  }
  if (got.lines.length !== expect.points.length)
    diff.push(`- ${expect.points.length} point(s)`, `+ ${got.lines.length} point(s):`, ...got.lines.map((l) => `+   ${l}`));
  for (let i = 0; i < Math.min(got.lines.length, expect.points.length); i++) {
    const parsed = parseLine(got.lines[i]!);
    // The gateway's own output always parses; if it did not, that is a finding too.
    if (!parsed.ok) diff.push(`- point ${i + 1}`, `+ unreadable line protocol (${parsed.error}): ${got.lines[i]}`);
    else comparePoint(expect.points[i]!, parsed.line, `point ${i + 1}`, got.lines[i]!, diff);
  }
  return { pass: diff.length === 0, diff };
}

function comparePoint(want: ExpectedPoint, line: ParsedLine, at: string, text: string, diff: string[]): void {
  const before = diff.length;
  if (want.measurement !== undefined && want.measurement !== line.measurement)
    diff.push(`- ${at} measurement ${JSON.stringify(want.measurement)}`, `+ ${at} measurement ${JSON.stringify(line.measurement)}`);
  const tags = new Map(line.tags);
  for (const [key, value] of Object.entries(want.tags ?? {})) {
    const have = tags.get(key);
    if (have !== value)
      diff.push(
        `- ${at} tag ${key}=${JSON.stringify(value)}`,
        `+ ${at} tag ${key}${have === undefined ? ' missing' : `=${JSON.stringify(have)}`}`,
      );
  }
  // A repeated field name: InfluxDB keeps the last, so the last is what is compared.
  const fields = new Map(line.fields.map((f) => [f.name, f] as const));
  for (const [name, value] of Object.entries(want.fields ?? {})) {
    const have = fields.get(name);
    if (have === undefined || !sameValue(value, have))
      diff.push(
        `- ${at} field ${name}=${JSON.stringify(value)}`,
        `+ ${at} field ${name}${have === undefined ? ' missing' : `=${show(have)}`}`,
      );
  }
  for (const name of want.absent ?? []) {
    if (tags.has(name) || fields.has(name)) diff.push(`- ${at} without ${name}`, `+ ${at} has ${tags.has(name) ? 'tag' : 'field'} ${name}`);
  }
  if (want.time !== undefined) {
    // Written in µs: an expected time in ms matches the point's time at that precision.
    const have = line.timestamp === undefined ? undefined : BigInt(line.timestamp);
    if (have !== BigInt(Math.round(want.time * 1000)))
      diff.push(`- ${at} time ${new Date(want.time).toISOString()}`, `+ ${at} time ${have === undefined ? 'missing' : isoMicros(have)}`);
  }
  if (diff.length > before) diff.push(`  ${at} as written: ${text}`);
}

function sameValue(want: ExpectedValue, have: ParsedField): boolean {
  switch (have.kind) {
    case 'float':
      return typeof want === 'number' && want === have.value;
    case 'int':
    case 'uint':
      return typeof want === 'number' && Number.isInteger(want) && BigInt(want) === BigInt(have.value);
    case 'bool':
      return want === have.value;
    case 'string':
      return want === have.value;
  }
}

function show(f: ParsedField): string {
  return f.kind === 'int' ? `${f.value}i` : f.kind === 'uint' ? `${f.value}u` : JSON.stringify(f.value);
}

function isoMicros(us: bigint): string {
  const ms = us / 1000n;
  const rest = us % 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

/** One line on what the routes made of the message. */
export function describe(x: Explanation): string {
  switch (x.kind) {
    case 'unrouted':
      return x.why === 'wildcard' ? 'unrouted: a published topic cannot contain "+" or "#"' : 'unrouted: no route matches';
    case 'rejected':
      return `rejected: ${x.reason} (${x.detail})${x.route ? ` by route ${x.route.number} ${x.route.topic}` : ''}`;
    case 'ok':
      return `${x.points} point(s) by route ${x.route.number} ${x.route.topic}: ${x.lines.join(' | ')}`;
  }
}
