import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IClientOptions } from 'mqtt';
import { renewTlsOptions } from '../../../src/source/renewTlsOptions.ts';

describe('renewTlsOptions', () => {
  it('replaces ca/cert/key where mqtt.js reads them, in wsOptions too (it copies them there only once), and drops a key the new files lack', () => {
    const old = { ca: Buffer.from('old-ca'), cert: Buffer.from('old-cert'), key: Buffer.from('old-key') };
    const options = { ...old, rejectUnauthorized: true, wsOptions: { ...old } } as IClientOptions & { wsOptions: Record<string, unknown> };
    const ca = Buffer.from('new-ca');
    renewTlsOptions(options, { ca, rejectUnauthorized: true });
    assert.equal(options.ca, ca);
    assert.equal(options.wsOptions['ca'], ca);
    for (const target of [options as unknown as Record<string, unknown>, options.wsOptions]) {
      assert.equal('cert' in target, false);
      assert.equal('key' in target, false);
    }
    assert.equal(options.rejectUnauthorized, true);
  });
});
