import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { splitUrlCredentials } from '../../../src/source/splitUrlCredentials.ts';
import { redactUrl } from '../../../src/log/redactConfig.ts';
import { redactUrlsInText } from '../../../src/log/redactUrlsIn.ts';

describe('splitUrlCredentials', () => {
  it('takes percent-encoded credentials out of the URL, decoded (a ":" in the password stays in the password)', () => {
    const password = 'Mq@7r:Q2/x9%L k';
    const split = splitUrlCredentials(`mqtts://edge-gw:${encodeURIComponent(password)}@broker.example:8883`);
    assert.deepEqual(split, { url: 'mqtts://broker.example:8883', username: 'edge-gw', password });
  });
  it('a raw "@" in the password: the last "@" ends the user info', () => {
    assert.deepEqual(splitUrlCredentials('mqtt://u:p@ss@h:1883'), { url: 'mqtt://h:1883', username: 'u', password: 'p@ss' });
  });
  it('no credentials: the URL unchanged, empty strings', () => {
    assert.deepEqual(splitUrlCredentials('mqtt://127.0.0.1:1883'), { url: 'mqtt://127.0.0.1:1883', username: '', password: '' });
  });
});

describe('URL redaction with raw special characters in the password', () => {
  it('redactUrl masks everything up to the last "@" (config errors show invalid URLs)', () => {
    assert.equal(redactUrl('mqtts://edge-gw:Mq@7r:Q2/x9%L k@127.0.0.1:999999'), 'mqtts://edge-gw:[redacted]@127.0.0.1:999999');
  });
  it('redactUrlsInText masks a raw "@" inside the password whole', () => {
    assert.equal(redactUrlsInText('url mqtt://u:p@ss@h:1883 failed'), 'url mqtt://u:[redacted]@h:1883 failed');
  });
});
