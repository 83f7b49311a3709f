import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unitExecStart } from '../harness/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(ROOT, 'dist/bundle/edgebridge.mjs');
const node = (args: string[], input?: string) =>
  spawnSync(process.execPath, args, {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
      EDGEBRIDGE_REDIS_URL: 'redis://127.0.0.1:1',
    },
  });

// The one-file build the systemd unit and the image run (scripts/bundle.ts), built by `npm run build`.
describe('the bundle (dist/bundle/edgebridge.mjs)', () => {
  it('is what the systemd unit runs', () => {
    assert.deepEqual(unitExecStart(path.join(ROOT, 'systemd/edgebridge.service')), { nodeArgs: [], main: 'dist/bundle/edgebridge.mjs' });
  });

  it('prints the package version and runs the pipeline offline (--dry-run), like dist/main.js', () => {
    assert.ok(fs.existsSync(BUNDLE), 'npm run build first');
    const version = node([BUNDLE, '--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    const args = ['--dry-run', '-', '--config', path.join(ROOT, 'config/edgebridge.example.json')];
    const line = 'sensors/dev9/power {"w":5,"ts":1736942400000}\n';
    const bundled = node([BUNDLE, ...args], line);
    assert.equal(bundled.status, 0, bundled.stderr);
    assert.match(bundled.stdout, /influx: power,device=dev9,gateway=edge-01,site=plant-a w=5 1736942400000000/);
    assert.equal(bundled.stdout, node([path.join(ROOT, 'dist/main.js'), ...args], line).stdout);
  });

  it('check-config refuses a bad value with exit 78, naming the key', () => {
    const r = spawnSync(process.execPath, [BUNDLE, 'check-config'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', EDGEBRIDGE_HTTP_PORT: 'eighty' },
    });
    assert.equal(r.status, 78, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /http\.port/);
  });
});

describe('what the gateway loads at start', () => {
  it('protobufjs only once a Sparkplug payload is decoded', () => {
    const script = `
      import { createRequire } from 'node:module';
      const cache = createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))}).cache;
      const loaded = () => Object.keys(cache).some((k) => k.includes('/node_modules/protobufjs/'));
      await import(${JSON.stringify(path.join(ROOT, 'dist/Gateway.js'))});
      await import(${JSON.stringify(path.join(ROOT, 'dist/cli/runGateway.js'))});
      const before = loaded();
      const { decodePayload, encodePayload } = await import(${JSON.stringify(path.join(ROOT, 'dist/sparkplug/SparkplugCodec.js'))});
      const decoded = decodePayload(encodePayload({ seq: 3, metrics: [{ name: 'a', datatype: 10, double_value: 1.5 }] }));
      console.log(JSON.stringify({ before, after: loaded(), seq: Number(decoded.seq), value: decoded.metrics[0].double_value }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, seq: 3, value: 1.5 });
  });
});
