import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSharedFilter, stripShare } from '../../../src/topic/SharedFilter.ts';

describe('parseSharedFilter', () => {
  it('splits $share/<group>/<filter>', () => {
    assert.deepEqual(parseSharedFilter('$share/gw/sensors/#'), { group: 'gw', filter: 'sensors/#' });
    assert.deepEqual(parseSharedFilter('$share/g-1.x/a/+/b'), { group: 'g-1.x', filter: 'a/+/b' });
    // A filter may itself start with '$' (a shared subscription to system topics).
    assert.deepEqual(parseSharedFilter('$share/g/$SYS/#'), { group: 'g', filter: '$SYS/#' });
  });

  it('leaves ordinary filters alone, including look-alikes', () => {
    for (const t of ['sensors/#', '$SYS/broker/#', '$shared/g/a', 'share/g/a', '$SHARE/g/a']) {
      assert.deepEqual(parseSharedFilter(t), { group: undefined, filter: t });
    }
  });

  it('says why a malformed share filter is wrong', () => {
    const bad: [string, RegExp][] = [
      ['$share', /group name is empty/],
      ['$share/', /group name is empty/],
      ['$share//a', /group name is empty/],
      ['$share/g', /no topic filter after the share group "g"/],
      ['$share/g/', /no topic filter after the share group "g"/],
      ['$share/g+/a', /contains "\+" or "#"/],
      ['$share/#', /contains "\+" or "#"/],
    ];
    for (const [topic, why] of bad)
      assert.throws(
        () => parseSharedFilter(topic),
        (e: unknown) => e instanceof RangeError && why.test(e.message),
        topic,
      );
  });

  it('stripShare never throws', () => {
    assert.equal(stripShare('$share/g/a/b'), 'a/b');
    assert.equal(stripShare('$share/g'), '$share/g');
    assert.equal(stripShare('a/b'), 'a/b');
  });
});
