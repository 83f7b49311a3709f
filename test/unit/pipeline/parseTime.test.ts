import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTime } from '../../../src/pipeline/parseTime.ts';

const US = 1732240000000000; // 2024-11-22T01:46:40Z

describe('parseTime', () => {
  it('explicit units', () => {
    assert.equal(parseTime(1732240000, 's'), US);
    assert.equal(parseTime(1732240000000, 'ms'), US);
    assert.equal(parseTime(US, 'us'), US);
    assert.equal(parseTime(US * 1000, 'ns'), US);
    assert.equal(parseTime(1.5, 's'), 1_500_000);
    assert.equal(parseTime(1700000000.12, 's'), 1700000000120000);
    assert.equal(parseTime(1732240000000.5, 'ms'), US + 500);
  });

  it('auto picks the unit by magnitude', () => {
    assert.equal(parseTime(1732240000, 'auto'), US);
    assert.equal(parseTime(1732240000000, 'auto'), US);
    assert.equal(parseTime(US, 'auto'), US);
    assert.equal(parseTime('1732240000000000000', 'auto'), US);
    // Boundaries: 1e11 is ms; just below is seconds (year 5138, beyond the safe µs range, so undefined).
    assert.equal(parseTime(99_999_999_999, 'auto'), undefined);
    assert.equal(parseTime(4_000_000_000, 'auto'), 4e15);
    assert.equal(parseTime(1e11, 'auto'), 1e14);
    assert.equal(parseTime(1e14, 'auto'), 1e14);
    assert.equal(parseTime(1e17, 'auto'), 1e14);
    assert.equal(parseTime(0, 'auto'), 0);
  });

  it('numeric strings', () => {
    assert.equal(parseTime('1732240000', 's'), US);
    assert.equal(parseTime(' 1732240000.5 ', 'auto'), US + 500_000);
    assert.equal(parseTime('1732240000000', 'ms'), US);
    assert.equal(parseTime('1.7e9', 's'), 1.7e15);
  });

  it('nanosecond digit strings keep full precision (rounded half up to µs)', () => {
    assert.equal(parseTime('1732240000123456789', 'ns'), 1732240000123457);
    assert.equal(parseTime('1732240000123456499', 'ns'), 1732240000123456);
    assert.equal(parseTime('1732240000123456500', 'auto'), 1732240000123457);
    assert.equal(parseTime('999', 'ns'), 1);
  });

  it('ISO 8601 strings with auto or iso', () => {
    assert.equal(parseTime('2024-11-22T01:46:40Z', 'iso'), US);
    assert.equal(parseTime('2024-11-22T01:46:40Z', 'auto'), US);
    assert.equal(parseTime('2024-11-22T01:46:40.123Z', 'iso'), US + 123_000);
    assert.equal(parseTime('2024-11-22T01:46:40.123456789Z', 'iso'), US + 123_456);
    assert.equal(parseTime('2024-11-22T02:46:40+01:00', 'iso'), US);
    assert.equal(parseTime('2024-11-22T02:46:40+0100', 'iso'), US);
    assert.equal(parseTime('2024-11-22T02:46:40+01', 'iso'), US);
    assert.equal(parseTime('2024-11-22 01:46:40Z', 'iso'), US);
    assert.equal(parseTime('2024-11-22T01:46Z', 'iso'), US - 40_000_000);
    assert.equal(parseTime('2024-11-22', 'iso'), Date.UTC(2024, 10, 22) * 1000);
  });

  it('ISO without a zone is UTC (not the host zone)', () => {
    assert.equal(parseTime('2024-01-01T12:00:00', 'iso'), Date.UTC(2024, 0, 1, 12) * 1000);
  });

  it('ISO strings are not accepted with a numeric unit', () => {
    assert.equal(parseTime('2024-11-22T01:46:40Z', 's'), undefined);
  });

  it('rejects invalid values', () => {
    for (const v of [
      Number.NaN,
      Infinity,
      -Infinity,
      -1,
      '-5',
      '',
      '  ',
      'abc',
      'NaN',
      'Infinity',
      '0x10',
      null,
      undefined,
      true,
      {},
      [],
      '2024-13-01T00:00:00Z',
      '1e400',
    ]) {
      assert.equal(parseTime(v, 'auto'), undefined, String(v));
    }
    assert.equal(parseTime(1e30, 'ns'), undefined, 'beyond int64 ns');
    assert.equal(parseTime('99999999999999999999999', 'ns'), undefined);
  });
});
