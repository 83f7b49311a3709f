import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Gateway, type LoadedSource } from '../../../src/Gateway.ts';
import { loadConfigDetailed } from '../../../src/config/loadConfig.ts';
import { runCli } from '../../../src/cli/runCli.ts';
import { FakeSink } from '../../fakes/FakeSink.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-reload-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'edgebridge.json');
const env = {
  EDGEBRIDGE_GATEWAY_ID: 'gw',
  // Nothing listens there: the source retries in the background; a reload does not need the broker.
  EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
  EDGEBRIDGE_HTTP_PORT: '0',
  EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '500',
  EDGEBRIDGE_SPOOL_DIR: path.join(dir, 'spool'),
};
const write = (content: unknown): void => fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
const load = (): LoadedSource => {
  const l = loadConfigDetailed({ argv: ['--config', file], env });
  return { config: l.config, source: l.configFile ?? '' };
};

/** What `edgebridge check-config` prints on stderr for the file as it is now. */
function checkConfig(): string {
  let err = '';
  const sink = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
  runCli({ argv: ['check-config', '--config', file], env, stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr: sink });
  return err.trim();
}

async function metric(gateway: Gateway, result: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.health.port}/metrics`)).text();
  const m = new RegExp(`^edgebridge_config_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text);
  return Number(m?.[1]);
}

describe('Gateway.reload', () => {
  it("refuses a broken config (check-config's message) and a restart-only change, applies the live ones", async () => {
    write({ log: { level: 'info' }, sinks: { redis: { enabled: false } } });
    const { logger, lines } = memoryLogger('info');
    const sinks = new Map<string, FakeSink>();
    const first = load();
    const gateway = new Gateway({
      config: first.config,
      configSource: first.source,
      logger,
      version: 't',
      exit: () => {},
      createSink: (c) => {
        const s = new FakeSink(c.name);
        sinks.set(c.name, s);
        return s;
      },
    });
    await gateway.start();
    try {
      const status = async () =>
        (await (await fetch(`http://127.0.0.1:${gateway.health.port}/status`)).json()) as {
          config: { generation: number; source: string; lastReloadError: { result: string; message: string } | null };
          sinks: { name: string }[];
        };
      assert.equal((await status()).config.generation, 1);
      assert.equal((await status()).config.source, file);

      // Broken: a route with an unknown format. Refused with the words check-config prints; nothing changes.
      write({ routes: [{ topic: 'a/{measurement}', format: 'xml' }] });
      const broken = await gateway.reload(load);
      assert.equal(broken.result, 'invalid');
      assert.equal(`edgebridge: ${broken.message}`, checkConfig());
      const refused = lines().find((l) => l.msg === 'reload refused: the running configuration goes on unchanged');
      assert.equal(refused?.err, broken.message);
      let st = await status();
      assert.equal(st.config.generation, 1);
      assert.equal(st.config.lastReloadError?.result, 'invalid');

      // A key only a restart can change: refused, the key named, nothing else applied with it.
      write({ log: { level: 'debug' }, mqtt: { keepalive: 10 }, sinks: { redis: { enabled: false } } });
      const restart = await gateway.reload(load);
      assert.equal(restart.result, 'restart_required');
      assert.match(restart.message, /mqtt\.keepalive/);
      assert.equal(logger.level, 'info', 'the live part of a refused reload is not applied either');

      // Live: the log level, a route, a sink added (redis enabled), batch settings.
      write({
        log: { level: 'debug' },
        routes: [{ topic: 'plant/{device}/{measurement}' }],
        sinks: { influx: { batch: { maxPoints: 10 } } },
      });
      const applied = await gateway.reload(load);
      assert.equal(applied.result, 'applied', applied.message);
      assert.equal(logger.level, 'debug');
      st = await status();
      assert.equal(st.config.generation, 2);
      assert.equal(st.config.lastReloadError, null);
      assert.deepEqual(
        st.sinks.map((s) => s.name),
        ['influx', 'redis'],
      );
      assert.ok(
        lines().some((l) => l.msg === "reload: sink added; it gets what arrives from now on (its cursor starts at the spool's tail)"),
      );

      // The same again: unchanged, counted, generation kept.
      assert.equal((await gateway.reload(load)).result, 'unchanged');
      assert.equal((await status()).config.generation, 2);

      // The sink removed again.
      write({
        log: { level: 'debug' },
        routes: [{ topic: 'plant/{device}/{measurement}' }],
        sinks: { redis: { enabled: false }, influx: { batch: { maxPoints: 10 } } },
      });
      assert.equal((await gateway.reload(load)).result, 'applied');
      assert.deepEqual(
        (await status()).sinks.map((s) => s.name),
        ['influx'],
      );
      const removed = lines().find(
        (l) => l.msg === 'reload: sink removed; its cursor is released and its backlog counted as dropped for it',
      );
      assert.equal(removed?.sink, 'redis');
      // Read once, at the end: /metrics is rendered at most once a second.
      assert.equal(await metric(gateway, 'invalid'), 1);
      assert.equal(await metric(gateway, 'applied'), 2);
      assert.equal(await metric(gateway, 'restart_required'), 1);
      assert.equal(await metric(gateway, 'unchanged'), 1);
      assert.equal(await metric(gateway, 'failed'), 0);
    } finally {
      await gateway.stop();
    }
  });
});
