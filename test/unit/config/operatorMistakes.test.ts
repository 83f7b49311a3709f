import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, after } from 'node:test';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
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

describe('an empty config file', () => {
  it('0 bytes: a ConfigError naming the file', () => {
    const f = file('zero.json', '');
    const e = configError(() => load(['--config', f]));
    assert.equal(e.key, 'config');
    assert.match(e.message, new RegExp(`config file "${f}": is empty \\(0 bytes\\)`));
  });

  it('white space only, and an empty routes file, too', () => {
    assert.match(configError(() => load(['--config', file('ws.json', ' \n')])).message, /holds only white space/);
    const routes = file('routes.json', '');
    const e = configError(() => load([], { EDGEBRIDGE_ROUTES_FILE: routes }));
    assert.equal(e.key, 'routesFile');
    assert.match(e.message, /is empty/);
  });
});

describe('misspelt EDGEBRIDGE_* variables', () => {
  it('EDGEBRIDGE_HTTP_PROT: refused, naming it and EDGEBRIDGE_HTTP_PORT, never its value', () => {
    const e = configError(() => load([], { EDGEBRIDGE_HTTP_PROT: '9100' }));
    assert.equal(e.key, 'EDGEBRIDGE_HTTP_PROT');
    assert.match(e.message, /environment variable EDGEBRIDGE_HTTP_PROT: is not a setting of edgebridge/);
    assert.match(e.message, /EDGEBRIDGE_HTTP_PORT/);
    assert.ok(!e.message.includes('9100'));
  });

  it('a secret misspelt: refused without echoing it; a name far from any: refused without a guess', () => {
    const e = configError(() => load([], { EDGEBRIDGE_INFLUX_TOKN: 's3cret-token' }));
    assert.match(e.message, /EDGEBRIDGE_INFLUX_TOKEN/);
    assert.ok(!e.message.includes('s3cret-token'));
    const far = configError(() => load([], { EDGEBRIDGE_WHATEVER_THIS_IS: '1' }));
    assert.match(far.message, /EDGEBRIDGE_WHATEVER_THIS_IS/);
    assert.doesNotMatch(far.message, /did you mean/);
  });

  it("an extra sink's secret is known only for a sink of that name", () => {
    const f = file('extra.json', { sinks: { extra: [{ name: 'cloud-eu', type: 'influx', url: 'http://127.0.0.1:1' }] } });
    const c = load(['--config', f], { EDGEBRIDGE_SINK_CLOUD_EU_TOKEN: 't' });
    assert.equal(c.sinks.find((s) => s.name === 'cloud-eu')?.type, 'influx');
    assert.match(
      configError(() => load(['--config', f], { EDGEBRIDGE_SINK_CLOUD_US_TOKEN: 't' })).message,
      /EDGEBRIDGE_SINK_CLOUD_EU_TOKEN/,
    );
  });

  it('every EDGEBRIDGE_* name the project itself sets (systemd, Dockerfile, scripts, bench, harness, integration tests) is accepted', async () => {
    const { readFileSync, readdirSync, statSync } = await import('node:fs');
    const root = new URL('../../../', import.meta.url).pathname;
    const files: string[] = [];
    const walk = (p: string): void => {
      if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
      else files.push(p);
    };
    for (const p of ['systemd', 'Dockerfile.arm64', 'scripts', 'bench', 'test/harness', 'test/integration', 'test/deploy'])
      walk(join(root, p));
    const names = new Set<string>();
    for (const f of files)
      for (const m of readFileSync(f, 'utf8').matchAll(/EDGEBRIDGE_[A-Z0-9_]+/g)) if (!m[0].endsWith('_')) names.add(m[0]);
    // Extra sinks' secrets depend on the sink names of a config (tested above).
    const env = Object.fromEntries([...names].filter((n) => !n.startsWith('EDGEBRIDGE_SINK_')).map((n) => [n, 'x']));
    assert.ok(Object.keys(env).length > 50, `found ${Object.keys(env).length} names`);
    assert.ok(env.EDGEBRIDGE_INFLUX_TOKEN_FILE && env.EDGEBRIDGE_HTTP_TOKEN_FILE && env.EDGEBRIDGE_KEEP_TMP && env.EDGEBRIDGE_TEST_NODE);
    const { checkEnvNames } = await import('../../../src/config/checkEnvNames.ts');
    const { createSchema } = await import('../../../src/config/schema.ts');
    checkEnvNames(env, { prefix: 'EDGEBRIDGE_', schema: createSchema('edge-01'), extra: ['EDGEBRIDGE_CONFIG'] });
  });
});

describe('a Sentinel or Cluster address with credentials', () => {
  for (const [mode, envName] of [
    ['sentinel', 'EDGEBRIDGE_REDIS_SENTINELS'],
    ['cluster', 'EDGEBRIDGE_REDIS_CLUSTER_NODES'],
  ] as const) {
    it(`${mode}: refused without echoing the credentials`, () => {
      for (const entry of ['admin:hunter2@10.0.0.1:26379', 'redis://admin:hunter2@10.0.0.1:26379', ':hunter2@10.0.0.1:26379']) {
        const e = configError(() => load([], { EDGEBRIDGE_REDIS_MODE: mode, [envName]: `10.0.0.2:26379,${entry}` }));
        assert.ok(!e.message.includes('hunter2'), e.message);
        assert.match(e.message, /\[redacted\]@10\.0\.0\.1:26379/);
        assert.match(e.message, /without credentials/);
      }
    });
  }
});
