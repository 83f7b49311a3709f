import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Gateway, type LoadedSource } from '../../../src/Gateway.ts';
import { loadConfigDetailed } from '../../../src/config/loadConfig.ts';
import { FakeSink } from '../../fakes/FakeSink.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-reload-http-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'edgebridge.json');

async function gatewayWith(token: string): Promise<Gateway> {
  const env = {
    EDGEBRIDGE_GATEWAY_ID: 'gw',
    EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
    EDGEBRIDGE_HTTP_PORT: '0',
    EDGEBRIDGE_HTTP_TOKEN: token,
    EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '500',
    EDGEBRIDGE_SPOOL_DIR: fs.mkdtempSync(path.join(dir, 'spool-')),
  };
  const load = (): LoadedSource => ({ config: loadConfigDetailed({ argv: ['--config', file], env }).config, source: file });
  const gateway = new Gateway({
    config: load().config,
    logger: memoryLogger('info').logger,
    version: 't',
    exit: () => {},
    load,
    createSink: (c) => new FakeSink(c.name),
  });
  await gateway.start();
  return gateway;
}

describe('POST /reload', () => {
  it('needs http.token: refused (403) without one, 401 with a wrong one; GET is 405', async () => {
    fs.writeFileSync(file, '{}');
    const open = await gatewayWith('');
    try {
      const r = await fetch(`http://127.0.0.1:${open.health.port}/reload`, { method: 'POST' });
      assert.equal(r.status, 403);
    } finally {
      await open.stop();
    }
    const gw = await gatewayWith('s3cret');
    try {
      const url = `http://127.0.0.1:${gw.health.port}/reload`;
      assert.equal((await fetch(url, { method: 'POST' })).status, 401);
      assert.equal((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status, 401);
      const get = await fetch(url, { headers: { authorization: 'Bearer s3cret' } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
    } finally {
      await gw.stop();
    }
  });

  it('answers with the outcome: 200 applied or unchanged, 409 refused', async () => {
    fs.writeFileSync(file, '{}');
    const gw = await gatewayWith('s3cret');
    try {
      const post = async () => {
        const r = await fetch(`http://127.0.0.1:${gw.health.port}/reload`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
        return { status: r.status, body: (await r.json()) as { result: string; message: string } };
      };
      assert.deepEqual((await post()).body.result, 'unchanged');
      fs.writeFileSync(file, JSON.stringify({ log: { level: 'warn' } }));
      const applied = await post();
      assert.equal(applied.status, 200);
      assert.equal(applied.body.result, 'applied');
      fs.writeFileSync(file, '{"log": ');
      const broken = await post();
      assert.equal(broken.status, 409);
      assert.equal(broken.body.result, 'invalid');
      assert.match(broken.body.message, /^configuration error: /);
    } finally {
      await gw.stop();
    }
  });
});
