import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicPattern } from '../../../src/topic/TopicPattern.ts';

describe('TopicPattern', () => {
  it('matches literals, + and captures', () => {
    const p = new TopicPattern('sensors/{device}/+/{measurement}');
    assert.deepEqual(p.names, ['device', 'measurement']);
    assert.equal(p.mqttFilter, 'sensors/+/+/+');
    assert.deepEqual(p.match('sensors/dev1/x/climate'), ['dev1', 'climate']);
    assert.equal(p.match('sensors/dev1/climate'), undefined);
    assert.equal(p.match('sensors/dev1/x/climate/more'), undefined);
    assert.equal(p.match('sensorz/dev1/x/climate'), undefined);
    assert.equal(p.match('sensors'), undefined);
  });

  it('returns a shared empty array without captures', () => {
    const p = new TopicPattern('a/+/c');
    const m = p.match('a/b/c');
    assert.deepEqual(m, []);
    assert.equal(p.match('a/x/c'), m);
  });

  it('literal levels must match exactly, including length', () => {
    const p = new TopicPattern('ab/c');
    assert.equal(p.match('abc/c'), undefined);
    assert.equal(p.match('a/c'), undefined);
    assert.equal(p.match('ab/cd'), undefined);
    assert.deepEqual(p.match('ab/c'), []);
  });

  it('empty levels match + and captures (MQTT allows them)', () => {
    const p = new TopicPattern('a/{x}/c');
    assert.deepEqual(p.match('a//c'), ['']);
    assert.deepEqual(new TopicPattern('a/+').match('a/'), []);
  });

  it('# matches the parent level and any depth', () => {
    const p = new TopicPattern('a/#');
    assert.equal(p.mqttFilter, 'a/#');
    assert.deepEqual(p.match('a'), []);
    assert.deepEqual(p.match('a/b'), []);
    assert.deepEqual(p.match('a/b/c'), []);
    assert.equal(p.match('b/a'), undefined);
    assert.equal(p.match('ab'), undefined);
    assert.deepEqual(new TopicPattern('#').match('x/y'), []);
  });

  it('{name#} captures the rest joined with /', () => {
    const p = new TopicPattern('zigbee2mqtt/{dev}/{rest#}');
    assert.equal(p.mqttFilter, 'zigbee2mqtt/+/#');
    assert.deepEqual(p.names, ['dev', 'rest']);
    assert.deepEqual(p.match('zigbee2mqtt/lamp/a/b/c'), ['lamp', 'a/b/c']);
    assert.deepEqual(p.match('zigbee2mqtt/lamp/a'), ['lamp', 'a']);
    assert.deepEqual(p.match('zigbee2mqtt/lamp'), ['lamp', '']);
    assert.deepEqual(p.match('zigbee2mqtt/lamp/'), ['lamp', '']);
    assert.equal(p.match('zigbee2mqtt'), undefined);
  });

  it('topics starting with $ do not match a leading wildcard', () => {
    assert.equal(new TopicPattern('#').match('$SYS/broker/uptime'), undefined);
    assert.equal(new TopicPattern('+/broker/uptime').match('$SYS/broker/uptime'), undefined);
    assert.equal(new TopicPattern('{a}/broker/uptime').match('$SYS/broker/uptime'), undefined);
    assert.equal(new TopicPattern('{a#}').match('$SYS/x'), undefined);
    assert.deepEqual(new TopicPattern('$SYS/#').match('$SYS/broker/uptime'), []);
    assert.deepEqual(new TopicPattern('$SYS/{k#}').match('$SYS/broker/uptime'), ['broker/uptime']);
  });

  it('strips $share/<group>/', () => {
    const p = new TopicPattern('$share/gw/sensors/{device}');
    assert.equal(p.mqttFilter, 'sensors/+');
    assert.equal(p.source, '$share/gw/sensors/{device}');
    assert.deepEqual(p.match('sensors/d1'), ['d1']);
  });

  it('rejects bad patterns with a RangeError naming the pattern', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a/#/b', /"#" must be the last level/],
      ['a/{x#}/b', /must be the last level/],
      ['a/{}', /empty capture name/],
      ['a/{#}', /empty capture name/],
      ['a/{x', /not closed/],
      ['a/x}', /mixes text/],
      ['a/b+', /mixes text/],
      ['a/#b', /mixes text/],
      ['a/x{y}', /not closed|mixes text/],
      ['a/{x}/{x}', /used twice/],
      ['a/{x y}', /must be a letter or '_'/],
      ['$share/g', /no topic filter after the share group/],
      ['$share//a', /group name is empty/],
      ['$share/g#/a', /contains "\+" or "#"/],
    ];
    for (const [pattern, message] of bad) {
      assert.throws(
        () => new TopicPattern(pattern),
        (e: unknown) => e instanceof RangeError && e.message.includes(`"${pattern}"`) && message.test(e.message),
        pattern,
      );
    }
  });
});

describe('capture names: one grammar for config and patterns (issue 13)', () => {
  it('TopicPattern refuses what the route config refuses, and accepts what it accepts', async () => {
    const { parseRoutes } = await import('../../../src/route/parseRoutes.ts');
    for (const name of ['device', '_x', 'a1_b', 'A']) {
      assert.doesNotThrow(() => new TopicPattern(`a/{${name}}`));
      assert.doesNotThrow(() => parseRoutes([{ topic: `a/{${name}}`, measurement: 'm', tags: {} }]));
    }
    for (const name of ['1abc', 'a-b', 'é', 'a b']) {
      assert.throws(() => new TopicPattern(`a/{${name}}`), /capture name/, name);
      assert.throws(() => parseRoutes([{ topic: `a/{${name}}`, measurement: 'm', tags: {} }]), Error, name);
    }
  });
});
