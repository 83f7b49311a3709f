import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, after } from 'node:test';
import { ConfigError } from '../../../src/config/ConfigError.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'eb-mistakes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const load = (argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env, hostname: 'edge-01' });

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

const extraInflux = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `i${i}`, type: 'influx', url: 'http://127.0.0.1:1' }));

describe('more sinks than the spool can address', () => {
  it('32 enabled sinks: a ConfigError naming sinks.extra and the limit 31', () => {
    const f = file('many.json', { sinks: { extra: extraInflux(30) } }); // + influx + redis = 32
    const e = configError(() => load(['--config', f]));
    assert.equal(e.key, 'sinks.extra');
    assert.match(e.message, /at most 31/);
    assert.match(e.message, /32 enabled sinks/);
  });

  it('31 enabled sinks load; disabled ones do not count', () => {
    assert.equal(load(['--config', file('31.json', { sinks: { extra: extraInflux(29) } })]).sinks.length, 31);
    const disabled = [...extraInflux(29), ...extraInflux(5).map((s) => ({ ...s, name: `off${s.name}`, enabled: false }))];
    assert.equal(load(['--config', file('off.json', { sinks: { extra: disabled } })]).sinks.length, 31);
  });
});
