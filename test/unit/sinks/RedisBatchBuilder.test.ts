import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Point } from '../../../src/sinks/influx/influxClient.ts';
import { parseLine } from '../../../src/lineprotocol/parseLine.ts';
import { splitLines } from '../../../src/lineprotocol/splitLines.ts';
import { latestOf, RedisBatchBuilder, streamsOf, type RedisLayout } from '../../../src/sinks/redis/RedisBatchBuilder.ts';
import { groupBySlot } from '../../../src/sinks/redis/groupBySlot.ts';
import { redisKeyPart } from '../../../src/sinks/redis/redisKeyPart.ts';
import { batchOf as makeBatch, entryLines, type Batch } from '../../../src/spool/Batch.ts';
import { threadCpuMs } from '../../harness/threadCpuMs.ts';

const LAYOUT: RedisLayout = { keyPrefix: 'eb:', deviceTag: 'device', latest: true, streams: true, streamMaxLen: 1000 };

function batchOf(chunks: string[]): Batch {
  return makeBatch(chunks, {
    positions: chunks.map((_, i) => i * 100),
    origin: 'o1',
    points: chunks.length,
    bytes: 0,
    firstReceivedAt: 0,
    lastReceivedAt: 0,
    end: 0,
  });
}

/**
 * The builder's meaning, written the plain way: every line through the full parser. The builder's fast paths
 * (series cache, direct split of simple field sections) must give exactly this.
 */
function reference(batch: Batch, layout: RedisLayout) {
  const latest = new Map<string, Map<string, { value: string; timeMs: number }>>();
  const streams: [string, number, string[]][] = [];
  let points = 0;
  let rejected = 0;
  entryLines(batch).forEach((chunk, c) => {
    for (const line of splitLines(chunk)) {
      const r = parseLine(line);
      if (!r.ok) {
        rejected++;
        continue;
      }
      const p = r.line;
      points++;
      const timeMs = Math.floor(Number(p.timestamp) / 1000);
      const value = (v: number | boolean | string): string => (typeof v === 'string' ? v : String(v));
      const device = p.tags.find(([k]) => k === layout.deviceTag)?.[1];
      const measurement = redisKeyPart(p.measurement);
      if (device !== undefined) {
        const key = `${layout.keyPrefix}latest:{${redisKeyPart(device)}}:${measurement}`;
        const group = latest.get(key) ?? new Map();
        latest.set(key, group);
        for (const f of p.fields) {
          const held = group.get(f.name);
          if (held === undefined || held.timeMs <= timeMs) group.set(f.name, { value: value(f.value), timeMs });
        }
      }
      // A field named ts or like a tag, or starting with the marker, is marked in the entry (field:device).
      const tagKeys = p.tags.map(([k]) => k);
      const name = (n: string): string => (n === 'ts' || n.startsWith('field:') || tagKeys.includes(n) ? `field:${n}` : n);
      streams.push([
        `${layout.keyPrefix}stream:{${measurement}}`,
        batch.positions[c]!,
        ['ts', String(timeMs), ...p.tags.flat(), ...p.fields.flatMap((f) => [name(f.name), value(f.value)])],
      ]);
    }
  });
  const groups = [...latest].map(([key, fields]) => [
    key,
    `${key}:ts`,
    [...fields].flatMap(([name, f]) => [name, f.value, String(f.timeMs)]),
  ]);
  // Stream entries in time order, entries of one time in the spool's (a stable sort: the builder's byTime).
  streams.sort((x, y) => Number(x[2][1]) - Number(y[2][1]));
  return { groups, streams, points, rejected };
}

function assertSame(chunks: string[], builder = new RedisBatchBuilder(LAYOUT)): void {
  const batch = batchOf(chunks);
  const built = builder.build(batch);
  const ref = reference(batch, LAYOUT);
  assert.deepEqual(latestOf(built), ref.groups);
  assert.deepEqual(streamsOf(built), ref.streams);
  assert.equal(built.points, ref.points);
  assert.equal(built.rejected, ref.rejected);
  assert.deepEqual(JSON.parse(built.argv[2].toString()), ref.groups);
  assert.deepEqual(JSON.parse(built.argv[3].toString()), ref.streams);
}

describe('RedisBatchBuilder', () => {
  it('coalesces latest values per device and field (newest wins) and keeps every point in the stream', () => {
    const built = new RedisBatchBuilder(LAYOUT).build(
      batchOf([
        'climate,device=d1,gateway=g h=40,t=21.5 1700000000000000',
        'climate,device=d1,gateway=g t=22 1700000001000000',
        'climate,device=d1,gateway=g t=19 1699999999000000',
        'climate,device=d2,gateway=g t=5 1700000000000000',
      ]),
    );
    assert.deepEqual(latestOf(built), [
      ['eb:latest:{d1}:climate', 'eb:latest:{d1}:climate:ts', ['h', '40', '1700000000000', 't', '22', '1700000001000']],
      ['eb:latest:{d2}:climate', 'eb:latest:{d2}:climate:ts', ['t', '5', '1700000000000']],
    ]);
    // Every point in the stream, in time order (stable): the late line of d1 first, then the spool's order.
    assert.deepEqual(
      streamsOf(built).map(([, position, fields]) => [position, fields[1], fields[3]]),
      [
        [200, '1699999999000', 'd1'],
        [0, '1700000000000', 'd1'],
        [300, '1700000000000', 'd2'],
        [100, '1700000001000', 'd1'],
      ],
    );
    assert.deepEqual(streamsOf(built)[1], [
      'eb:stream:{climate}',
      0,
      ['ts', '1700000000000', 'device', 'd1', 'gateway', 'g', 'h', '40', 't', '21.5'],
    ]);
  });

  it('keeps a batch already in time order as it is (no copy)', () => {
    const b = batchOf([
      'climate,device=d1 t=1 1700000000000000',
      'climate,device=d2 t=2 1700000000000000',
      'climate,device=d1 t=3 1700000001000000',
    ]);
    assert.deepEqual(
      streamsOf(new RedisBatchBuilder(LAYOUT).build(b)).map(([, position]) => position),
      [0, 100, 200],
    );
  });

  it("gives the full parser's result for escapes, strings, integers, booleans and bad lines", () => {
    assertSame([
      'climate,device=d1 t=21.5 1700000000000000',
      'my\\ room,device=living\\ room\\,1,x=a\\=b t=1,n=5i,u=7u,b=T,c=false 1700000000000000',
      'climate,device=d1 s="a \\"quoted\\" string, with = signs",t=1 1700000000000000',
      'climate,device=d1 s="multi\nline",t=2 1700000000000000\nclimate,device=d1 t=3 1700000002000000',
      'climate,device=k{1}:x t=-1.5e-7 -5000',
      'climate,device=d1 t=1e+21 1700000000000000',
      'no fields here',
      'climate,device=d1 t= 1700000000000000',
      'climate,device=d1 t=NaN 1700000000000000',
      'climate t=1 1700000000000000',
    ]);
  });

  it('reads simple lines byte by byte exactly as the full parser does: every boolean spelling, suffixes, odd timestamps, non-ASCII, control characters', () => {
    assertSame([
      'b,device=d1 a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 1700000000000000',
      'n,device=d1 i=-12i,u=12u,f=-0.5,g=.5,e=1e-7 1700000000000001',
      'n,device=d1 f=1 1000',
      'n,device=d1 f=2 999',
      'n,device=d1 f=3 0999000',
      'n,device=d1 f=4 17000000000000000',
      'n,device=d1 f=6 -1700000000000000',
      'n,device=dé€ f=7,ü=8 1700000000000000',
      'n,device=d\x01 f\x01=9,\x7f=10 1700000000000000',
      'n,device=d1 f=1, 1700000000000000',
      'n,device=d1 f==1 1700000000000000',
      'n,device=d1 f=1,=2 1700000000000000',
      'n,device=d1 f=bogus 1700000000000000',
    ]);
  });

  it("gives the full parser's result for lines with more than two spaces (never the fast path)", () => {
    assertSame([
      'm,device=d1 v=1  1700000000000000',
      'm,device=d1  v=2 1700000000000000',
      'm,device=d1 v=3 ,w=4 1700000000000000',
      'm,device=d1 v=5 w=6 1700000000000000',
    ]);
  });

  it("gives the full parser's time for a 16-digit timestamp beyond 2^53 µs, as for any other", () => {
    // The parser's time goes through a double; the fast path must not be more exact than it (mixed lines must agree).
    assertSame([
      'n,device=d1 f=1 9007199254740991',
      'n,device=d1 f=2 9007199254740993',
      'n,device=d1 g=3 9999999999999999',
      'n,device=d1 g=4 9999999999999000',
    ]);
  });

  it('reads a line with leading spaces as the parser does (it skips them), instead of throwing', () => {
    assertSame(['  m,device=d1 v=1 1700000000000000', 'm,device=d1 w=2 1700000000000000', ' m,device=d1 v=3 1700000001000000']);
  });

  it('merges the latest values of simple lines and of lines the full parser read, whichever is newer', () => {
    // Same device and fields: the second line has a string field, so it goes through the parser; the third is simple again.
    assertSame([
      'm,device=d1 t=1,h=2 1700000000000000',
      'm,device=d1 t=3,s="x",h=4 1700000001000000',
      'm,device=d1 h=5 1700000000500000',
      'm,device=d1 s="y" 1700000002000000',
      'm,device=d1 t=6 1700000003000000',
    ]);
    assertSame(['m,device=d1 t=3,s="x" 1700000001000000', 'm,device=d1 t=1 1700000000000000', 'm,device=d1 s="old" 1690000000000000']);
  });

  it("gives the full parser's result for any point the router can write (property)", () => {
    const name = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'b', ' ', ',', '=', '\\', '"', ':', '{', 'é', '1') });
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ['float', v] as const),
      fc.boolean().map((v) => ['bool', v] as const),
      fc.string({ maxLength: 8 }).map((v) => ['string', v] as const),
      fc.integer().map((v) => ['int', v] as const),
    );
    const point = fc.record({
      measurement: name,
      device: fc.option(name, { nil: undefined }),
      fields: fc.dictionary(name, value, { minKeys: 1, maxKeys: 4 }),
      ts: fc.integer({ min: 0, max: 2 ** 52 }),
    });
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 6 }), (points) => {
        const lines = points.map((p) => {
          const pt = new Point(p.measurement).tag('gateway', 'g1');
          if (p.device !== undefined) pt.tag('device', p.device);
          for (const [k, [kind, v]] of Object.entries(p.fields)) {
            if (kind === 'float') pt.floatField(k, v);
            else if (kind === 'bool') pt.booleanField(k, v);
            else if (kind === 'int') pt.intField(k, v);
            else pt.stringField(k, v);
          }
          return pt.timestamp(String(p.ts)).toLineProtocol()!;
        });
        assertSame(lines);
        assertSame([lines.join('\n')]);
      }),
      { numRuns: 300 },
    );
  });

  it("gives the full parser's result for raw lines of any byte class, batch after batch through one builder, and cut per cluster slot (property)", () => {
    // Names from every class the fast path must tell apart: separators, escapes, quotes, control characters, DEL,
    // multi-byte UTF-8 (2, 3 and 4 bytes, U+2028, a BOM), JSON's and Redis keys' specials.
    const ch = fc.constantFrom(
      'a',
      'b',
      'd',
      '!',
      '#',
      ' ',
      ',',
      '=',
      '\\',
      '"',
      '\x01',
      '\x7f',
      '\t',
      '\r',
      'é',
      '€',
      '😀',
      '\u2028',
      '\ufeff',
      '1',
      '-',
      '.',
      'i',
      'u',
      't',
      'e',
      '{',
      ':',
      '%',
    );
    const name = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.string({
          minLength: 1,
          maxLength: 4,
          unit: fc.constantFrom('a', 'é', '😀', '\x7f', '!', '#', '{', ':', '%', '\u2028', '1', '-', '.', 'i', 't', 'u', 'e'),
        }),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 5, unit: ch }) },
    );
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.integer().map((v) => `${v}i`),
      fc.nat().map((v) => `${v}u`),
      fc.constantFrom('t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE', 'tRue', 'x', '', '"s"', '"a b"'),
      // Not a number: a value the router writes starts with a digit or '-' only as a number in its canonical form.
      fc.string({ maxLength: 4, unit: ch }).filter((v) => !/^[-0-9]/.test(v)),
    );
    // Ties on time (the later line wins) and odd timestamps: digit counts, leading zeros, negative, beyond 2^53, CR.
    const ts = fc.oneof(
      fc.constantFrom('1700000000000000', '1700000000000999', '1700000000001000'),
      fc.integer({ min: 0, max: 2 ** 53 }).map(String),
      fc.constantFrom(
        '0',
        '0123',
        '-5000',
        '999',
        '1000',
        '9007199254740993',
        '9999999999999999',
        '17000000000000000',
        '1700000000000000 ',
        '1700000000000000\r',
      ),
    );
    const sep = fc.constantFrom(' ', ' ', ' ', '  ');
    const line = fc
      .record({
        measurement: fc.oneof(fc.constantFrom('m', 'n'), name),
        device: fc.option(fc.oneof(fc.constantFrom('d1', 'd2'), name)),
        tags: fc.array(fc.tuple(name, name), { maxLength: 2 }),
        fields: fc.array(fc.tuple(fc.oneof(fc.constantFrom('a', 'b'), name), value), { maxLength: 3 }),
        sep1: sep,
        sep2: sep,
        ts,
      })
      .map((l) => {
        const tags = [...(l.device === null ? [] : [['device', l.device] as const]), ...l.tags].map(([k, v]) => `,${k}=${v}`).join('');
        return `${l.measurement}${tags}${l.sep1}${l.fields.map(([k, v]) => `${k}=${v}`).join(',')}${l.sep2}${l.ts}`;
      });
    const entry = fc.array(line, { minLength: 1, maxLength: 2 }).map((lines) => lines.join('\n'));
    const builder = new RedisBatchBuilder(LAYOUT); // caches warm from one batch to the next
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), (chunks) => {
        assertSame(chunks, builder);
        assertSlotsReassemble(builder.build(batchOf(chunks)));
      }),
      { numRuns: 3000 },
    );
  });

  it("gives the full parser's result for long names (native copies) in large batches that grow the writers (property)", () => {
    const long = fc.string({ minLength: 60, maxLength: 80, unit: fc.constantFrom('a', 'é', '😀', '\x7f', '!', '"', '\\', ' ', ',', '=') });
    const name = fc.oneof(long, fc.constantFrom('a', 'b', 'd1', 'd2', 'device', 'ts', 'field:ts'));
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.constantFrom('t', 'FALSE', '"x"', '"😀 \\" q"', '12i', '7u'),
    );
    const ts = fc.constantFrom('1700000000000000', '1700000000000999', '1700000000001000');
    const esc = (s: string) => s.replace(/[\\ ,=]/g, (c) => (c === '\\' ? 'x' : `\\${c}`));
    const line = fc
      .record({ measurement: name, device: name, fields: fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 3 }), ts })
      .map((l) => `${esc(l.measurement)},device=${esc(l.device)} ${l.fields.map(([k, v]) => `${esc(k)}=${v}`).join(',')} ${l.ts}`);
    const builder = new RedisBatchBuilder(LAYOUT);
    fc.assert(
      fc.property(
        fc.array(
          fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n')),
          { minLength: 1, maxLength: 60 },
        ),
        (chunks) => {
          assertSame(chunks, builder);
          assertSlotsReassemble(builder.build(batchOf(chunks)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('RedisBatchBuilder: what one device can send (issue 12)', () => {
  const wide = (device: string, n: number, from = 0): string =>
    `m,device=${device},gateway=g ${Array.from({ length: n }, (_, i) => `f${from + i}=1`).join(',')} 1700000000000000`;

  it('a field named ts, device or gateway is marked in the stream entry (field:…), on both paths; the latest hash keeps its name', () => {
    const built = new RedisBatchBuilder(LAYOUT).build(
      batchOf([
        'm,device=d1,gateway=g device=5,gateway=6,ts=7,t=1,field:x=8 1700000000000000',
        'm,device=d2,gateway=g device="forged",ts="x y",t=2 1700000000000000', // a string field: the full parser
      ]),
    );
    assert.deepEqual(
      streamsOf(built).map((e) => e[2]),
      [
        [
          'ts',
          '1700000000000',
          'device',
          'd1',
          'gateway',
          'g',
          'field:device',
          '5',
          'field:gateway',
          '6',
          'field:ts',
          '7',
          't',
          '1',
          'field:field:x',
          '8',
        ],
        ['ts', '1700000000000', 'device', 'd2', 'gateway', 'g', 'field:device', 'forged', 'field:ts', 'x y', 't', '2'],
      ],
    );
    const entry = streamsOf(built)[1]![2];
    const asMap = Object.fromEntries(Array.from({ length: entry.length / 2 }, (_, i) => [entry[2 * i], entry[2 * i + 1]]));
    assert.equal(asMap.device, 'd2', 'a reader taking the entry as a map sees the real device');
    assert.deepEqual(latestOf(built)[0]![2], [
      'device',
      '5',
      '1700000000000',
      'gateway',
      '6',
      '1700000000000',
      'ts',
      '7',
      '1700000000000',
      't',
      '1',
      '1700000000000',
      'field:x',
      '8',
      '1700000000000',
    ]);
  });

  it('a tag key ts (or starting with field:) cannot make an unambiguous entry: the point is refused and counted', () => {
    const built = new RedisBatchBuilder(LAYOUT).build(
      batchOf(['m,device=d1,ts=5 v=1 1700000000000000', 'm,device=d2 v=1 1700000000000000']),
    );
    assert.equal(built.points, 1);
    assert.equal(built.rejected, 1);
    assert.match(built.firstError ?? '', /tag key "ts" is reserved/);
    assert.deepEqual(
      streamsOf(built).map((e) => e[2][3]),
      ['d2'],
    );
  });

  it('a point too wide for one stream entry (one XADD) is refused whole and counted; without streams it is written', () => {
    const built = new RedisBatchBuilder(LAYOUT).build(batchOf([wide('p', 4100), wide('n', 3)]));
    assert.equal(built.points, 1);
    assert.equal(built.rejected, 1);
    assert.match(built.firstError ?? '', /4100 fields/);
    assert.deepEqual(
      latestOf(built).map((g) => g[0]),
      ['eb:latest:{n}:m'],
      'nothing of the refused point',
    );
    const latestOnly = new RedisBatchBuilder({ ...LAYOUT, streams: false }).build(batchOf([wide('p', 4100)]));
    assert.equal(latestOnly.points, 1);
    assert.equal(latestOf(latestOnly)[0]![2].length, 3 * 4100);
  });

  it('coalesces 100 000 distinct fields of one device in linear time (no search per field through the others)', () => {
    const builder = new RedisBatchBuilder({ ...LAYOUT, streams: false });
    const chunks = [wide('d', 50_000, 0), wide('d', 50_000, 50_000), wide('d', 50_000, 0)];
    const batch = batchOf(chunks);
    // CPU time of this thread, not the wall clock (which also counts waiting for a core on a loaded machine).
    const started = threadCpuMs();
    const built = builder.build(batch);
    const ms = threadCpuMs() - started;
    assert.equal(latestOf(built)[0]![2].length, 3 * 100_000);
    // Quadratic, this took about 50 s; linear, well under half a second on the test machine.
    assert.ok(ms < 3000, `${ms.toFixed(0)} ms of CPU`);
  });
});

/** The per-slot calls hold every latest group and every stream entry of the whole, each stream in order. */
function assertSlotsReassemble(built: ReturnType<RedisBatchBuilder['build']>): void {
  const calls = groupBySlot(built);
  const latest = calls.flatMap((c) => JSON.parse(c.argv[2].toString('utf8')) as unknown[]);
  const streams = calls.flatMap((c) => JSON.parse(c.argv[3].toString('utf8')) as [string, number, string[]][]);
  const whole = latestOf(built);
  assert.equal(latest.length, whole.length);
  for (const g of whole) assert.equal(latest.filter((x) => JSON.stringify(x) === JSON.stringify(g)).length, 1);
  const wholeStreams = streamsOf(built);
  assert.equal(streams.length, wholeStreams.length);
  for (const key of new Set(wholeStreams.map((e) => e[0])))
    assert.deepEqual(
      streams.filter((e) => e[0] === key),
      wholeStreams.filter((e) => e[0] === key),
    );
}

describe('RedisBatchBuilder: found by the property test', () => {
  it('reads a line with a leading tab (which the parser skips, as InfluxDB does) instead of throwing', () => {
    assertSame(['\t a a=0u 0', 'm  0']);
    assertSame(['\t\0m,device=d1 v=1 1700000000000000', 'm,device=d1 w=2 1700000000000000']);
  });

  it('reads a space after a run of backslashes in a series key as the parser does', () => {
    assertSame(['m,device=a\\\\ v=1 1700000000000000', 'm,device=a\\ b v=2 1700000000000000']);
  });
});
