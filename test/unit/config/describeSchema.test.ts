import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeSchema, extractReference, REFERENCE_END, REFERENCE_START, spliceReference } from '../../../scripts/describeSchema.ts';
import { createSchema } from '../../../src/config/schema.ts';
import { leaves } from '../../../src/config/schemaTree.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts/config-doc.ts');
const dir = mkdtempSync(join(tmpdir(), 'eb-doc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const schema = createSchema('edgebridge');
const all = [...leaves(schema)];
const envOf = (key: string) => all.find(([k]) => k === key)?.[1].env;

describe('schema', () => {
  it('every key has doc, default and a known format', () => {
    for (const [key, leaf] of all) {
      assert.ok(leaf.doc.length > 5, `${key}: doc`);
      assert.ok(Object.hasOwn(leaf, 'default'), `${key}: default`);
      assert.ok(leaf.format.describe, `${key}: format`);
      leaf.format.parse(leaf.default); // defaults are valid
    }
  });

  it('has the required environment variables', () => {
    const required: Record<string, string> = {
      gatewayId: 'EDGEBRIDGE_GATEWAY_ID',
      'mqtt.url': 'EDGEBRIDGE_MQTT_URL',
      'mqtt.username': 'EDGEBRIDGE_MQTT_USERNAME',
      'mqtt.password': 'EDGEBRIDGE_MQTT_PASSWORD',
      'sinks.influx.url': 'EDGEBRIDGE_INFLUX_URL',
      'sinks.influx.token': 'EDGEBRIDGE_INFLUX_TOKEN',
      'sinks.influx.org': 'EDGEBRIDGE_INFLUX_ORG',
      'sinks.influx.bucket': 'EDGEBRIDGE_INFLUX_BUCKET',
      'sinks.redis.url': 'EDGEBRIDGE_REDIS_URL',
      'sinks.redis.username': 'EDGEBRIDGE_REDIS_USERNAME',
      'sinks.redis.password': 'EDGEBRIDGE_REDIS_PASSWORD',
      'sinks.influx.enabled': 'EDGEBRIDGE_INFLUX_ENABLED',
      'sinks.redis.enabled': 'EDGEBRIDGE_REDIS_ENABLED',
      'mqtt.clientId': 'EDGEBRIDGE_MQTT_CLIENT_ID',
      'http.host': 'EDGEBRIDGE_HTTP_HOST',
      'http.port': 'EDGEBRIDGE_HTTP_PORT',
      'spool.dir': 'EDGEBRIDGE_SPOOL_DIR',
      'spool.maxBytes': 'EDGEBRIDGE_SPOOL_MAX_BYTES',
      'log.level': 'EDGEBRIDGE_LOG_LEVEL',
      routesFile: 'EDGEBRIDGE_ROUTES_FILE',
    };
    for (const [key, env] of Object.entries(required)) assert.equal(envOf(key), env, key);
  });

  it('env vars and flags are unique; secrets have env but no flag', () => {
    const envs = all.map(([, l]) => l.env);
    const args = all.map(([, l]) => l.arg).filter(Boolean);
    assert.equal(new Set(envs).size, envs.length);
    assert.equal(new Set(args).size, args.length);
    const secrets = all.filter(([, l]) => l.sensitive).map(([k]) => k);
    assert.deepEqual(secrets, [
      'mqtt.password',
      'sinks.influx.token',
      'sinks.redis.password',
      'sinks.redis.sentinelPassword',
      'http.token',
    ]);
    for (const [, leaf] of all.filter(([, l]) => l.sensitive)) assert.equal(leaf.arg, undefined);
    assert.equal(all.find(([k]) => k === 'mqtt.url')?.[1].arg, 'mqtt-url');
    assert.equal(all.find(([k]) => k === 'sinks.influx.batch.maxPoints')?.[1].arg, 'influx-batch-max-points');
  });
});

describe('describeSchema', () => {
  const md = describeSchema(schema);

  it('has one table row per key with env var, flag and default', () => {
    assert.match(
      md,
      /^\| `mqtt\.url` \| `EDGEBRIDGE_MQTT_URL` \| `--mqtt-url` \| `"mqtt:\/\/127\.0\.0\.1:1883"` \| URL \(mqtt, mqtts, ws, wss\) \|/m,
    );
    assert.match(md, /\| `mqtt\.password` \| `EDGEBRIDGE_MQTT_PASSWORD` \| none \(secret\) \|.*`mqtt_password`/);
    for (const [key] of all) assert.ok(md.includes(`| \`${key}\` |`), key);
    assert.ok(md.includes('host name, sanitised'), 'the gatewayId default is described, not the build host');
  });

  it('does not depend on the host it runs on', () => {
    assert.equal(describeSchema(createSchema('other-host')), md);
  });

  it('splices into and extracts from a document', () => {
    const doc = `# Title\n\ntext\n\n${REFERENCE_START}\nold\n${REFERENCE_END}\n\nmore\n`;
    const spliced = spliceReference(doc, md);
    assert.equal(extractReference(spliced), md);
    assert.ok(spliced.startsWith('# Title\n\ntext\n\n'));
    assert.ok(spliced.endsWith(`${REFERENCE_END}\n\nmore\n`));
    assert.equal(spliceReference(spliced, md), spliced, 'idempotent');
    assert.equal(extractReference('no markers'), undefined);
    assert.equal(extractReference(spliceReference('# Only a title\n', md)), md, 'appends when the markers are missing');
  });
});

describe('scripts/config-doc.ts', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

  it('prints the reference', () => {
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, describeSchema(schema));
  });

  it('--write then --check passes; a stale section fails --check', () => {
    const readme = join(dir, 'README.md');
    writeFileSync(readme, `# edgebridge\n\n${REFERENCE_START}\n${REFERENCE_END}\n`);
    assert.equal(run('--check', readme).status, 1, 'empty section is stale');
    assert.equal(run('--write', readme).status, 0);
    assert.equal(run('--check', readme).status, 0);
    writeFileSync(readme, readFileSync(readme, 'utf8').replace('`"info"`', '`"debug"`'));
    const stale = run('--check', readme);
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /out of date/);
    assert.equal(run('--check', join(dir, 'missing.md')).status, 1);
    assert.equal(run('--bogus').status, 2);
  });

  it('docs/configuration.md holds the reference, up to date', () => {
    const reference = join(root, 'docs/configuration.md');
    assert.ok(existsSync(reference), 'docs/configuration.md exists');
    assert.notEqual(
      extractReference(readFileSync(reference, 'utf8')),
      undefined,
      `docs/configuration.md has the ${REFERENCE_START} section`,
    );
    const r = run('--check', reference);
    assert.equal(r.status, 0, r.stderr);
  });

  it('README.md has no copy of the reference (it lives in docs/configuration.md)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.equal(readme.includes(REFERENCE_START), false, 'regenerate with: node scripts/config-doc.ts --write docs/configuration.md');
  });
});
