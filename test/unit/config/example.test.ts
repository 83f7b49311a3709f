import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { createSchema } from '../../../src/config/schema.ts';
import { leaves } from '../../../src/config/schemaTree.ts';

const example = fileURLToPath(new URL('../../../config/edgebridge.example.json', import.meta.url));

describe('config/edgebridge.example.json', () => {
  it('loads without errors: local InfluxDB, Redis and a cloud InfluxDB', () => {
    const c = loadConfig({ argv: ['--config', example], env: {} });
    assert.deepEqual(
      c.sinks.map((s) => `${s.name}:${s.type}`),
      ['influx:influx', 'redis:redis', 'cloud:influx'],
    );
    assert.ok(c.routes.length >= 1);
  });

  it('sets every key of the schema, so it documents them all', () => {
    const raw = JSON.parse(readFileSync(example, 'utf8'));
    for (const [key] of leaves(createSchema())) {
      let node = raw;
      for (const part of key.split('.')) node = node?.[part];
      assert.notEqual(node, undefined, `${key} missing from the example`);
    }
  });
});
