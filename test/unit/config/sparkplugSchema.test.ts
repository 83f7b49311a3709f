import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import type { ConfigError } from '../../../src/errors/ConfigError.ts';
import { configFailure } from './configFailure.ts';

const SPARKPLUG_ROUTES = JSON.stringify([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'sparkplug' }]);
/** A Sparkplug host whose STATE can be turned on: a Sparkplug route and no status topic (it would hold the Will). */
const HOST = { EDGEBRIDGE_ROUTES: SPARKPLUG_ROUTES, EDGEBRIDGE_MQTT_STATUS_TOPIC: '' };

function failure(env: Record<string, string>): ConfigError {
  return configFailure(() => loadConfig({ argv: [], env, hostname: 'h' }));
}

describe('sparkplug.* keys', () => {
  it('defaults: no Rebirth requests, engUnit as a tag', () => {
    const c = loadConfig({ argv: [], env: {}, hostname: 'h' });
    assert.deepEqual(c.sparkplug, { hostId: '', rebirth: false, rebirthMinIntervalMs: 60000, maxNodes: 10000, propertyTags: ['engUnit'] });
  });

  it('takes property keys as JSON or a comma list, and refuses what cannot be a tag key (exit 78, naming the key)', () => {
    const c = loadConfig({ argv: [], env: { EDGEBRIDGE_SPARKPLUG_PROPERTY_TAGS: 'engUnit, Quality' }, hostname: 'h' });
    assert.deepEqual(c.sparkplug.propertyTags, ['engUnit', 'Quality']);
    for (const bad of ['["device"]', '["#x"]', '[1]', '[""]']) {
      const e = failure({ EDGEBRIDGE_SPARKPLUG_PROPERTY_TAGS: bad });
      assert.match(e.key, /^sparkplug\.propertyTags/, bad);
    }
    assert.equal(failure({ EDGEBRIDGE_SPARKPLUG_REBIRTH_MIN_INTERVAL_MS: '0' }).key, 'sparkplug.rebirthMinIntervalMs');
    assert.equal(failure({ EDGEBRIDGE_SPARKPLUG_REBIRTH: 'maybe' }).key, 'sparkplug.rebirth');
  });
});

describe("sparkplug.hostId (the gateway's own STATE)", () => {
  it('off by default; a host id that is one topic level is taken', () => {
    for (const id of ['scada', 'edgebridge-01', 'Host.A_1', 'hôte ü']) {
      const c = loadConfig({ argv: [], env: { ...HOST, EDGEBRIDGE_SPARKPLUG_HOST_ID: id }, hostname: 'h' });
      assert.equal(c.sparkplug.hostId, id);
    }
  });

  it('refuses what is not one topic level: exit 78 naming the key', () => {
    for (const bad of ['a/b', 'a+', '#', 'x\u0000y']) {
      const e = failure({ ...HOST, EDGEBRIDGE_SPARKPLUG_HOST_ID: bad });
      assert.equal(e.key, 'sparkplug.hostId', bad);
      assert.match(e.message, /one MQTT topic level/);
      assert.match(e.message, /EDGEBRIDGE_SPARKPLUG_HOST_ID/);
    }
  });

  it('refuses a host id without a Sparkplug route: the STATE would call edge nodes to a host that reads nothing', () => {
    const e = failure({ EDGEBRIDGE_MQTT_STATUS_TOPIC: '', EDGEBRIDGE_SPARKPLUG_HOST_ID: 'scada' });
    assert.equal(e.key, 'sparkplug.hostId');
    assert.match(e.message, /no route has format sparkplug/);
    assert.match(e.message, /EDGEBRIDGE_SPARKPLUG_HOST_ID=""/);
  });

  it('refuses a host id beside the status topic (on by default): one connection has one Will', () => {
    const e = failure({ EDGEBRIDGE_ROUTES: SPARKPLUG_ROUTES, EDGEBRIDGE_SPARKPLUG_HOST_ID: 'scada' });
    assert.equal(e.key, 'mqtt.statusTopic');
    assert.equal(e.value, 'edgebridge/{gatewayId}/status', 'as configured');
    assert.match(e.message, /sparkplug\.hostId is set \("scada"\)/);
    assert.match(e.message, /EDGEBRIDGE_MQTT_STATUS_TOPIC=""/);
  });
});
