import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GatewayProcess } from './support/GatewayProcess.ts';

describe('command line', () => {
  it('a bad value exits 78 and names the key, the value and the fix', async () => {
    const r = await GatewayProcess.run([], { EDGEBRIDGE_MQTT_URL: 'ftp://broker:1883' });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /mqtt\.url/);
    assert.match(r.stderr, /ftp:\/\/broker:1883/);
    assert.match(r.stderr, /EDGEBRIDGE_MQTT_URL/);
  });

  it('an unknown key in the config file exits 78 and names it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-cli-'));
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ mqtt: { urll: 'mqtt://x' } }));
    const r = await GatewayProcess.run(['--config', file], {});
    assert.equal(r.code, 78);
    assert.match(r.stderr, /mqtt\.urll/);
  });

  it('check-config validates and summarises; print-config redacts secrets', async () => {
    const env = {
      EDGEBRIDGE_MQTT_URL: 'mqtt://user:hunter2@broker:1883',
      EDGEBRIDGE_INFLUX_TOKEN: 'tok-very-secret',
      EDGEBRIDGE_REDIS_PASSWORD: 'redis-very-secret',
      EDGEBRIDGE_GATEWAY_ID: 'gw7',
    };
    const check = await GatewayProcess.run(['check-config'], env);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /configuration OK/);
    assert.match(check.stdout, /gw7/);
    const print = await GatewayProcess.run(['print-config'], env);
    assert.equal(print.code, 0, print.stderr);
    const printed = JSON.parse(print.stdout) as { sinks: { name: string; token?: string }[] };
    assert.equal(printed.sinks.find((s) => s.name === 'influx')?.token, '[redacted]');
    for (const out of [check.stdout, check.stderr, print.stdout, print.stderr]) {
      for (const secret of ['hunter2', 'tok-very-secret', 'redis-very-secret']) assert.ok(!out.includes(secret), `${secret} leaked`);
    }
  });

  it('a spool directory that cannot be created exits 78 (no restart loop) and says which key to fix', async () => {
    const r = await GatewayProcess.run([], {
      EDGEBRIDGE_SPOOL_DIR: '/dev/null/spool',
      EDGEBRIDGE_HTTP_PORT: '0',
      EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
      EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '500',
    });
    assert.equal(r.code, 78);
    assert.match(r.stdout, /spool\.dir/);
    assert.match(r.stdout, /EDGEBRIDGE_SPOOL_DIR/);
  });

  // One start of the gateway per test: under emulation on a loaded machine one start took ~24 s (test:arm64 gives
  // each test 180 s), and three in one test took 72 s.
  it('--version', async () => {
    const v = await GatewayProcess.run(['--version'], {});
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('--help', async () => {
    const h = await GatewayProcess.run(['--help'], {});
    assert.equal(h.code, 0);
    assert.match(h.stdout, /check-config/);
  });

  it('an unknown command exits 2', async () => {
    const bad = await GatewayProcess.run(['frobnicate'], {});
    assert.equal(bad.code, 2);
  });
});
