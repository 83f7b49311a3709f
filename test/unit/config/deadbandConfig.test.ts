import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { CONFIG_EXIT_CODE } from '../../../src/errors/ConfigError.ts';
import { configFailure } from './configFailure.ts';

const load = (route: Record<string, unknown>) =>
  loadConfig({
    argv: [],
    env: { EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: 'sensors/{device}/{measurement}', ...route }]) },
    hostname: 'h',
  });

describe('routes[].deadband', () => {
  it('fills every key: no band (exact repeats), no intervals, all the route’s sinks, capacity 10 000', () => {
    const [route] = load({ deadband: {} }).routes;
    assert.deepEqual(route!.deadband, {
      absolute: 0,
      percent: 0,
      minIntervalMs: 0,
      maxIntervalMs: 0,
      writePrevious: false,
      capacity: 10_000,
      fields: {},
    });
    assert.equal(load({}).routes[0]!.deadband, undefined, 'absent: no report by exception');
  });

  it('takes sinks, per-field rules and false for a field written every time', () => {
    const [route] = load({
      fields: ['t', 'count'],
      deadband: { absolute: 0.2, sinks: ['influx'], fields: { t: { percent: 1 }, count: false } },
    }).routes;
    assert.deepEqual(route!.deadband!.sinks, ['influx']);
    assert.deepEqual(route!.deadband!.fields, { t: { percent: 1, absolute: 0 }, count: false });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['a negative band', { deadband: { absolute: -0.1 } }, 'routes[0].deadband.absolute', /number ≥ 0/],
    ['a negative percentage', { deadband: { percent: -1 } }, 'routes[0].deadband.percent', /number ≥ 0/],
    ['both kinds of band', { deadband: { absolute: 1, percent: 1 } }, 'routes[0].deadband', /absolute or percent, not both/],
    ['an empty sinks list', { deadband: { percent: 1, sinks: [] } }, 'routes[0].deadband.sinks', /non-empty array.*leave the key out/],
    [
      'an unknown sink',
      { deadband: { sinks: ['influxdb'] } },
      'routes[0].deadband.sinks[0]',
      /a sink this route writes to \(influx, redis\)/,
    ],
    [
      'a sink the route does not write to',
      { sinks: ['redis'], deadband: { sinks: ['influx'] } },
      'routes[0].deadband.sinks[0]',
      /\(redis\)/,
    ],
    [
      'an unknown field',
      { fields: ['t'], deadband: { fields: { h: { absolute: 1 } } } },
      'routes[0].deadband.fields.h',
      /a field this route writes \(t\)/,
    ],
    [
      'a heartbeat not above the minimum interval',
      { deadband: { minIntervalMs: 1000, maxIntervalMs: 1000 } },
      'routes[0].deadband.maxIntervalMs',
      /longer than minIntervalMs/,
    ],
    ['a fractional interval', { deadband: { maxIntervalMs: 1.5 } }, 'routes[0].deadband.maxIntervalMs', /whole number/],
    ['a capacity of 0', { deadband: { capacity: 0 } }, 'routes[0].deadband.capacity', /1 to 10000000/],
    ['an unknown key', { deadband: { abs: 1 } }, 'routes[0].deadband.abs', /unknown key/],
    ['not an object', { deadband: 0.5 }, 'routes[0].deadband', /an object such as/],
    ['writePrevious not a boolean', { deadband: { writePrevious: 'yes' } }, 'routes[0].deadband.writePrevious', /boolean/],
  ];
  for (const [what, route, key, message] of bad) {
    it(`refuses ${what}: exit 78 naming the key and the fix`, () => {
      const e = configFailure(() => load(route));
      assert.ok(e instanceof ConfigError);
      assert.equal(e.key, key, e.message);
      assert.match(e.message, message);
      assert.match(e.message, /EDGEBRIDGE_ROUTES|config file/);
      assert.equal(CONFIG_EXIT_CODE, 78);
    });
  }
});
