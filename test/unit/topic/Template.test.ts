import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from '../../../src/topic/Template.ts';

describe('Template', () => {
  const names = ['device', 'measurement'];

  it('static templates resolve at compile time', () => {
    const t = new Template('zigbee', names);
    assert.equal(t.isStatic, true);
    assert.equal(t.value, 'zigbee');
    assert.equal(t.render(['a', 'b']), 'zigbee');
    assert.equal(new Template('', []).value, '');
  });

  it('renders a single capture', () => {
    const t = new Template('{measurement}', names);
    assert.equal(t.isStatic, false);
    assert.equal(t.render(['d1', 'climate']), 'climate');
  });

  it('renders mixed text and captures', () => {
    assert.equal(new Template('{device}_x', names).render(['d1', 'm']), 'd1_x');
    assert.equal(new Template('a-{device}-{measurement}-z', names).render(['d1', 'm']), 'a-d1-m-z');
    assert.equal(new Template('{device}{device}', names).render(['d', 'm']), 'dd');
  });

  it('{{ and }} are literal braces', () => {
    assert.equal(new Template('{{x}}', names).value, '{x}');
    assert.equal(new Template('{{{device}}}', names).render(['d', 'm']), '{d}');
  });

  it('unknown names fail at compile time, listing the available ones', () => {
    assert.throws(() => new Template('{dev}_x', names), /template "\{dev\}_x": unknown name "dev"; available: device, measurement/);
    assert.throws(() => new Template('{dev}', []), /available: \(none/);
  });

  it('malformed templates fail at compile time', () => {
    assert.throws(() => new Template('{device', names), RangeError);
    assert.throws(() => new Template('{}', names), /empty name/);
    assert.throws(() => new Template('a}b', names), /unmatched/);
  });
  it('properties are names after the captures; a template renders empty when a property it uses is empty', () => {
    const all = ['device', '$user.site', '$contentType'];
    const caps = (site: string, ct: string) => ['d1', site, ct];
    const single = new Template('{$user.site}', all, 1);
    assert.equal(single.usesProperties, true);
    assert.equal(single.render(caps('hall1', '')), 'hall1');
    assert.equal(single.render(caps('', '')), '');
    const mixed = new Template('{device}-{$user.site}-{$contentType}', all, 1);
    assert.equal(mixed.render(caps('h', 'json')), 'd1-h-json');
    // Half a value (`d1--json`) would be a new series nobody asked for: the tag is left out instead.
    assert.equal(mixed.render(caps('', 'json')), '');
    // An empty topic level stays what it always was: empty text inside the value.
    assert.equal(new Template('x{device}y-{$user.site}', all, 1).render(['', 'h', '']), 'xy-h');
    assert.equal(new Template('{device}_x', all, 1).usesProperties, false);
    assert.deepEqual(Template.namesIn('{a}-{$user.b}{{c}}'), ['a', '$user.b']);
  });
});
