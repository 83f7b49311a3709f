import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import type { ConfigError } from '../../../src/errors/ConfigError.ts';
import { configFailure } from './configFailure.ts';

function failure(env: Record<string, string>): ConfigError {
  return configFailure(() => loadConfig({ argv: [], env, hostname: 'h' }));
}

describe('sparkplug.* keys', () => {
  it('defaults: no Rebirth requests, engUnit as a tag', () => {
    const c = loadConfig({ argv: [], env: {}, hostname: 'h' });
    assert.deepEqual(c.sparkplug, { rebirth: false, rebirthMinIntervalMs: 60000, maxNodes: 10000, propertyTags: ['engUnit'] });
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
