import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeTooOld } from '../../../src/cli/nodeVersion.ts';

describe('nodeTooOld', () => {
  it('24 and newer run; older gets a message naming both versions and the binary', () => {
    assert.equal(nodeTooOld('24.21.0', '/x/node'), undefined);
    assert.equal(nodeTooOld('26.0.0', '/x/node'), undefined);
    const m = nodeTooOld('20.20.2', '/usr/bin/node');
    assert.match(m ?? '', /needs Node\.js 24 or newer; this is Node\.js 20\.20\.2 \(\/usr\/bin\/node\)/);
    assert.equal(m?.split('\n').length, 2, 'one line');
  });
});
