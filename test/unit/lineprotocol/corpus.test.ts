import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type ParsedLine, parseLine } from '../../../src/lineprotocol/parseLine.ts';
import { splitLines } from '../../../src/lineprotocol/splitLines.ts';

/**
 * InfluxDB's line-protocol test inputs (influxdata/line-protocol-corpus, the InfluxDB 2.x models inputs) against
 * the gateway's parser: a line InfluxDB 1.x/2.x accepts must parse to the same point, a line it refuses must be
 * refused. Source and meaning of the fixture: its `source` field. Deliberate differences: DELIBERATE below and
 * docs/line-protocol.md.
 */

interface Expected {
  readonly measurement: string;
  readonly tags: [string, string][];
  readonly fields: [string, 'float' | 'int' | 'uint' | 'bool' | 'string', string | boolean][];
  readonly time: string | null;
}
interface Vector {
  readonly text: string;
  readonly precision: '1ns' | '1µs' | '1ms' | '1s';
  readonly expect: Expected | null;
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/line-protocol-corpus.influxdbv2models.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};

/** Vectors where the gateway answers differently from InfluxDB on purpose (text → why). None today. */
const DELIBERATE = new Map<string, string>();

const NS = { '1ns': 1n, '1µs': 1000n, '1ms': 1_000_000n, '1s': 1_000_000_000n } as const;
// models.MinNanoTime / MaxNanoTime: SafeCalcTime refuses times outside these.
const MIN_NS = -(2n ** 63n) + 2n;
const MAX_NS = 2n ** 63n - 2n;

/** What InfluxDB takes as the lines of a body: not blank, not a '#' comment after skipWhitespace. */
function pointLines(text: string): string[] {
  return splitLines(text).filter((l) => !/^[ \t\0]*(#|$)/.test(l));
}

function sameField(got: ParsedLine['fields'][number], want: Expected['fields'][number]): boolean {
  if (got.name !== want[0] || got.kind !== want[1]) return false;
  if (got.kind === 'float') return got.value === Number(want[2]);
  if (got.kind === 'int' || got.kind === 'uint') return BigInt(got.value) === BigInt(want[2] as string);
  return got.value === want[2];
}

/** '' when the gateway agrees with InfluxDB on this vector, otherwise what differs. */
function disagreement(v: Vector): string {
  const lines = pointLines(v.text);
  const parsed = lines.map(parseLine);
  const timeOk = (p: ParsedLine): boolean => {
    if (p.timestamp === undefined) return true;
    const ns = BigInt(p.timestamp) * NS[v.precision];
    return ns >= MIN_NS && ns <= MAX_NS;
  };
  const refused = parsed.some((r) => !r.ok || !timeOk(r.line));
  if (v.expect === null) return refused ? '' : 'InfluxDB refuses it, the gateway accepts it';
  if (refused || parsed.length !== 1) return `InfluxDB accepts it, the gateway: ${parsed.map((r) => (r.ok ? 'ok' : r.error)).join('; ')}`;
  const p = (parsed[0] as { ok: true; line: ParsedLine }).line;
  const want = v.expect;
  const tags = [...p.tags].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (p.measurement !== want.measurement) return `measurement ${JSON.stringify(p.measurement)}`;
  if (JSON.stringify(tags) !== JSON.stringify(want.tags)) return `tags ${JSON.stringify(tags)}`;
  if (p.fields.length !== want.fields.length || !p.fields.every((f, i) => sameField(f, want.fields[i]!)))
    return `fields ${JSON.stringify(p.fields)}`;
  if ((p.timestamp ?? null) !== (want.time === null ? null : String(BigInt(want.time)))) return `time ${p.timestamp}`;
  return '';
}

describe('line-protocol corpus (InfluxDB 2.x models inputs)', () => {
  it('the parser accepts and refuses every vector as InfluxDB 1.x/2.x does', (t) => {
    const differing: string[] = [];
    let agree = 0;
    for (const v of fixture.vectors) {
      const d = disagreement(v);
      if (d === '') agree++;
      else if (!DELIBERATE.has(v.text)) differing.push(`${JSON.stringify(v.text)}: ${d}`);
    }
    t.diagnostic(`corpus agreement: ${agree} of ${fixture.vectors.length} vectors (${DELIBERATE.size} deliberate differences)`);
    assert.deepEqual(differing, []);
    assert.equal(agree + DELIBERATE.size, fixture.vectors.length);
  });
});
