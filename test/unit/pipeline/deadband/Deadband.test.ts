import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Deadband, type Decision, type FieldMemory, numberOf } from '../../../../src/pipeline/deadband/Deadband.ts';
import type { DeadbandRule } from '../../../../src/route/Route.ts';
import { DEFAULT_DEADBAND_RULE } from '../../../../src/route/parseDeadband.ts';

const S = 1_000_000; // µs per second: point times are µs

function rule(own: Partial<DeadbandRule>): Deadband {
  return new Deadband({ ...DEFAULT_DEADBAND_RULE, ...own });
}

/** One series run through a rule: each [text, time µs] → its decision (the memory carried as the router does). */
function run(d: Deadband, values: readonly (readonly [string, number])[]): Decision[] {
  let memory: FieldMemory | undefined;
  return values.map(([text, at]) => {
    const number = numberOf(text);
    const decision = d.decide(memory, text, number, at);
    memory = d.apply(memory, decision, text, number, at);
    return decision;
  });
}

const kinds = (ds: Decision[]) =>
  ds.map((d) =>
    d.kind === 'write' ? `write:${d.reason}` : d.kind === 'suppress' ? `suppress:${d.reason}` : `previous:${d.text}@${d.at / S}`,
  );

describe('numberOf', () => {
  it('reads floats, integers and unsigned; strings and booleans are not numbers', () => {
    assert.equal(numberOf('21.5'), 21.5);
    assert.equal(numberOf('-12i'), -12);
    assert.equal(numberOf('12u'), 12);
    assert.equal(numberOf('1e3'), 1000);
    for (const t of ['"21.5"', 'T', 't', 'true', 'F', 'false', 'FALSE']) assert.ok(Number.isNaN(numberOf(t)), t);
  });
});

describe('Deadband decisions', () => {
  it('absolute: writes the first value and changes beyond the band, holds back the rest', () => {
    const d = rule({ absolute: 0.2 });
    const out = run(d, [
      ['20', 0],
      ['20.1', 1 * S],
      ['20.2', 2 * S], // exactly the band: held back (more than the band is written)
      ['20.21', 3 * S],
      ['20.0', 4 * S],
      ['19.9', 5 * S],
    ]);
    assert.deepEqual(kinds(out), [
      'write:first',
      'suppress:deadband',
      'suppress:deadband',
      'write:changed',
      'write:changed',
      'suppress:deadband',
    ]);
  });

  it('percent: relative to the last written value; from 0 every change is written', () => {
    const d = rule({ percent: 1 });
    assert.deepEqual(
      kinds(
        run(d, [
          ['100', 0],
          ['100.9', S],
          ['101.5', 2 * S],
          ['102', 3 * S],
        ]),
      ),
      [
        'write:first',
        'suppress:deadband',
        'write:changed',
        'suppress:deadband', // 0.5 of 101.5 is under 1 %
      ],
    );
    assert.deepEqual(
      kinds(
        run(d, [
          ['0', 0],
          ['0.0001', S],
        ]),
      ),
      ['write:first', 'write:changed'],
    );
  });

  it('no band set: exact repeats only, for numbers, strings and booleans alike', () => {
    const d = rule({});
    assert.deepEqual(
      kinds(
        run(d, [
          ['1', 0],
          ['1', S],
          ['1.0000001', 2 * S],
        ]),
      ),
      ['write:first', 'suppress:deadband', 'write:changed'],
    );
    assert.deepEqual(
      kinds(
        run(rule({ absolute: 100 }), [
          ['"on"', 0],
          ['"on"', S],
          ['"off"', 2 * S],
        ]),
      ),
      ['write:first', 'suppress:deadband', 'write:changed'],
    );
    assert.deepEqual(
      kinds(
        run(rule({ absolute: 100 }), [
          ['T', 0],
          ['T', S],
          ['F', 2 * S],
        ]),
      ),
      ['write:first', 'suppress:deadband', 'write:changed'],
    );
  });

  it('a change of type is a change', () => {
    assert.deepEqual(
      kinds(
        run(rule({ absolute: 100 }), [
          ['1', 0],
          ['"1"', S],
        ]),
      ),
      ['write:first', 'write:changed'],
    );
  });

  it('heartbeat: an unchanged value is written once maxIntervalMs has passed since the last write', () => {
    const d = rule({ absolute: 1, maxIntervalMs: 60_000 });
    assert.deepEqual(
      kinds(
        run(d, [
          ['5', 0],
          ['5', 30 * S],
          ['5', 59.999 * S],
          ['5', 60 * S],
          ['5', 100 * S],
          ['5', 120 * S],
        ]),
      ),
      ['write:first', 'suppress:deadband', 'suppress:deadband', 'write:heartbeat', 'suppress:deadband', 'write:heartbeat'],
    );
  });

  it('minimum interval: a change is held back until minIntervalMs after the last write, then written', () => {
    const d = rule({ minIntervalMs: 10_000 });
    assert.deepEqual(
      kinds(
        run(d, [
          ['1', 0],
          ['2', 5 * S],
          ['3', 9 * S],
          ['3', 10 * S],
        ]),
      ),
      ['write:first', 'suppress:min_interval', 'suppress:min_interval', 'write:changed'],
    );
  });

  it('writePrevious: a change is preceded by the last value held back, with its own time', () => {
    const d = rule({ absolute: 0.5, writePrevious: true });
    assert.deepEqual(
      kinds(
        run(d, [
          ['20', 0],
          ['20.1', S],
          ['20.2', 2 * S],
          ['25', 3 * S],
          ['26', 4 * S],
        ]),
      ),
      [
        'write:first',
        'suppress:deadband',
        'suppress:deadband',
        'previous:20.2@2',
        'write:changed', // nothing held back since 25
      ],
    );
  });

  it('an older point than the last written one is written and not remembered', () => {
    const d = rule({ absolute: 10 });
    assert.deepEqual(
      kinds(
        run(d, [
          ['1', 10 * S],
          ['1', 5 * S],
          ['1', 11 * S],
        ]),
      ),
      ['write:first', 'write:out_of_order', 'suppress:deadband'],
    );
  });
});

describe('Deadband properties', () => {
  const values = fc.array(fc.tuple(fc.double({ min: -1000, max: 1000, noNaN: true }), fc.integer({ min: 0, max: 120_000 })), {
    maxLength: 200,
  });
  const band = fc.double({ min: 0, max: 50, noNaN: true });

  it('every value differing from the last written one by more than the band is written', () => {
    fc.assert(
      fc.property(values, band, (steps, absolute) => {
        const d = rule({ absolute });
        let at = 0;
        let last: number | undefined;
        let memory: FieldMemory | undefined;
        for (const [value, gapMs] of steps) {
          at += gapMs * 1000;
          const text = String(value);
          const decision = d.decide(memory, text, value, at);
          const written = decision.kind !== 'suppress';
          if (last === undefined || Math.abs(value - last) > absolute) assert.ok(written, `${value} after ${last} (band ${absolute})`);
          else assert.ok(!written, `${value} after ${last} (band ${absolute}) must be held back`);
          memory = d.apply(memory, decision, text, value, at);
          if (written) last = value;
        }
      }),
    );
  });

  it('with a heartbeat, no two consecutive writes are further apart than maxIntervalMs plus the gap to the next value', () => {
    fc.assert(
      fc.property(values, band, fc.integer({ min: 1, max: 600_000 }), (steps, absolute, maxIntervalMs) => {
        const d = rule({ absolute, maxIntervalMs });
        let at = 0;
        let memory: FieldMemory | undefined;
        let lastWrite: number | undefined;
        for (const [value, gapMs] of steps) {
          at += gapMs * 1000;
          const text = String(value);
          const decision = d.decide(memory, text, value, at);
          if (lastWrite !== undefined && at - lastWrite >= maxIntervalMs * 1000) {
            assert.notEqual(
              decision.kind,
              'suppress',
              `held back ${at - lastWrite} µs after the last write (heartbeat ${maxIntervalMs} ms)`,
            );
          }
          if (decision.kind !== 'suppress') lastWrite = at;
          memory = d.apply(memory, decision, text, value, at);
        }
      }),
    );
  });

  it('with a minimum interval, written values are at least minIntervalMs apart (after the first)', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 60_000 }), (steps, minIntervalMs) => {
        const d = rule({ minIntervalMs });
        let at = 0;
        let memory: FieldMemory | undefined;
        let lastWrite: number | undefined;
        for (const [value, gapMs] of steps) {
          at += gapMs * 1000;
          const decision = d.decide(memory, String(value), value, at);
          if (decision.kind !== 'suppress') {
            if (lastWrite !== undefined) assert.ok(at - lastWrite >= minIntervalMs * 1000);
            lastWrite = at;
          }
          memory = d.apply(memory, decision, String(value), value, at);
        }
      }),
    );
  });
});
