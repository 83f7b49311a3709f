import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filterCovers } from '../../../src/topic/filterCovers.ts';

describe('filterCovers', () => {
  const cases: [string, string, boolean][] = [
    ['sensors/#', 'sensors/+/+', true],
    ['sensors/#', 'sensors/#', true],
    ['#', 'anything/at/all', true],
    ['sensors/+/climate', 'sensors/+/+', false],
    ['sensors/+/+', 'sensors/+/climate', true],
    ['sensors/+', 'sensors/+/+', false],
    ['sensors/+/+', 'sensors/#', false],
    ['tele/+/SENSOR', 'tele/+/SENSOR', true],
    ['$share/g/sensors/#', 'sensors/+/+', true],
    ['$share/g/sensors/+/climate', 'sensors/+/climate', true],
    ['$share/g/sensors/+/climate', 'sensors/+/+', false],
    ['$share/g/sensors/#', '$share/other/sensors/a', true],
    ['zigbee2mqtt/+', 'sensors/+', false],
  ];
  for (const [sub, filter, want] of cases) {
    it(`${sub} ${want ? 'covers' : 'does not cover'} ${filter}`, () => assert.equal(filterCovers(sub, filter), want));
  }
});
