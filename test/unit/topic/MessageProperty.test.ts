import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPropertyName, parseProperty, readProperty } from '../../../src/topic/MessageProperty.ts';

describe('MessageProperty', () => {
  it('parses $user.NAME and $contentType, refuses anything else with what is expected', () => {
    assert.deepEqual(parseProperty('$user.site'), { kind: 'user', name: '$user.site', key: 'site' });
    // MQTT allows any UTF-8 name: dots, spaces and dashes are part of the key.
    assert.deepEqual(parseProperty('$user.a.b c-d'), { kind: 'user', name: '$user.a.b c-d', key: 'a.b c-d' });
    assert.deepEqual(parseProperty('$contentType'), { kind: 'contentType', name: '$contentType' });
    for (const bad of ['$user.', '$user', '$usr.site', '$contenttype', '$']) {
      assert.throws(() => parseProperty(bad), /is not a message property; expected "\$user\.NAME" .* or "\$contentType"/, bad);
    }
    assert.equal(isPropertyName('$user.x'), true);
    assert.equal(isPropertyName('device'), false);
  });

  it('reads a value; absent and empty read as ""; a repeated user property reads as its last value', () => {
    const site = parseProperty('$user.site');
    const ct = parseProperty('$contentType');
    assert.equal(readProperty(site, { userProperties: { site: 'hall1' } }), 'hall1');
    assert.equal(readProperty(site, { userProperties: { site: ['hall1', 'hall2'] } }), 'hall2');
    assert.equal(readProperty(site, { userProperties: { site: [] } }), '');
    assert.equal(readProperty(site, { userProperties: { other: 'x' } }), '');
    assert.equal(readProperty(site, {}), '');
    assert.equal(readProperty(site, undefined), '');
    assert.equal(readProperty(ct, { contentType: 'application/json' }), 'application/json');
    assert.equal(readProperty(ct, { userProperties: { contentType: 'x' } }), '');
  });

  it('answers only own keys, and only strings: no Object.prototype member, no number from a malformed request', () => {
    assert.equal(readProperty(parseProperty('$user.constructor'), { userProperties: {} }), '');
    assert.equal(readProperty(parseProperty('$user.__proto__'), { userProperties: {} }), '');
    assert.equal(readProperty(parseProperty('$user.toString'), { userProperties: { site: 'a' } }), '');
    const malformed = { contentType: 5, userProperties: { a: 1, b: [2] } } as unknown as Parameters<typeof readProperty>[1];
    assert.equal(readProperty(parseProperty('$contentType'), malformed), '');
    assert.equal(readProperty(parseProperty('$user.a'), malformed), '');
    assert.equal(readProperty(parseProperty('$user.b'), malformed), '');
  });
});
