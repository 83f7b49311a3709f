import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { redactConfig, redactUrl } from '../../../src/log/redactConfig.ts';

describe('redactUrl', () => {
  it('redacts passwords in URLs', () => {
    assert.equal(redactUrl('mqtt://user:pass@host:1883'), 'mqtt://user:[redacted]@host:1883');
    assert.equal(redactUrl('mqtts://user:p@ss@host/x'), 'mqtts://user:[redacted]@host/x');
    assert.equal(redactUrl('redis://:secret@r:6379/0'), 'redis://:[redacted]@r:6379/0');
    assert.equal(redactUrl('redis://secret@r:6379'), 'redis://[redacted]@r:6379');
    assert.equal(redactUrl('https://c.example/api?org=a&token=abc#x'), 'https://c.example/api?org=a&token=[redacted]#x');
  });

  it('leaves URLs without credentials alone', () => {
    for (const url of ['mqtt://127.0.0.1:1883', 'http://user@host', 'not a url', '', 'https://h/p?q=1']) {
      assert.equal(redactUrl(url), url);
    }
  });
});

describe('redactConfig', () => {
  it('is a deep copy with secrets replaced; empty secrets stay empty', () => {
    const config = loadConfig({
      argv: [],
      env: { EDGEBRIDGE_MQTT_PASSWORD: 'mp', EDGEBRIDGE_INFLUX_TOKEN: 'it', EDGEBRIDGE_REDIS_URL: 'redis://u:rp@r' },
      hostname: 'h',
    });
    // biome-ignore lint/suspicious/noExplicitAny: the test walks the redacted object by key
    const redacted = redactConfig(config) as any;
    assert.equal(redacted.mqtt.password, '[redacted]');
    assert.equal(redacted.sinks[0].token, '[redacted]');
    assert.equal(redacted.sinks[1].password, '', 'unset secret stays visibly unset');
    assert.equal(redacted.sinks[1].url, 'redis://u:[redacted]@r');
    assert.equal(redacted.mqtt.url, config.mqtt.url);
    assert.equal(config.mqtt.password, 'mp', 'the input is not modified');
    assert.notEqual(redacted.routes, config.routes);
    assert.deepEqual(redacted.routes, config.routes);
  });
});
