import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, after } from 'node:test';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { DEFAULT_ROUTE } from '../../../src/route/parseRoutes.ts';

const dir = mkdtempSync(join(tmpdir(), 'eb-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const load = (argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env, hostname: 'Edge-01.plant.example' });

describe('loadConfig defaults', () => {
  it('loads with no file, env or flags', () => {
    const c = load();
    assert.equal(c.gatewayId, 'edge-01');
    assert.equal(c.gatewayTag, true);
    assert.deepEqual(c.log, { level: 'info', collapseIntervalMs: 10000 });
    assert.equal(c.mqtt.url, 'mqtt://127.0.0.1:1883');
    assert.equal(c.mqtt.clientId, 'edgebridge-edge-01');
    assert.equal(c.mqtt.clean, false);
    assert.equal(c.mqtt.protocolVersion, 5);
    assert.equal(c.mqtt.sessionExpirySec, 604800);
    assert.deepEqual(c.mqtt.subscriptions, [{ topic: 'sensors/#', qos: 1 }]);
    assert.equal(c.mqtt.statusTopic, 'edgebridge/edge-01/status');
    assert.equal(c.mqtt.maxPayloadBytes, 65536);
    assert.deepEqual(c.spool, {
      type: 'disk',
      dir: '/var/lib/edgebridge/spool',
      maxBytes: 1073741824,
      overflow: 'dropOldest',
      ack: 'write',
      fsyncIntervalMs: 200,
      segmentBytes: 16777216,
      checkpointIntervalMs: 1000,
    });
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 8080, token: '' });
    assert.deepEqual(c.shutdown, { timeoutMs: 10000 });
  });

  it('has exactly the default route', () => {
    assert.deepEqual(load().routes, [
      {
        topic: 'sensors/{device}/{measurement}',
        format: 'json',
        measurement: '{measurement}',
        tags: { device: '{device}' },
        fields: [],
        flatten: false,
        timeField: 'ts',
        timeUnit: 'ms',
        sinks: [],
      },
    ]);
    assert.deepEqual(load().routes[0], DEFAULT_ROUTE);
  });

  it('lists the enabled default sinks, influx first', () => {
    const [influx, redis, ...rest] = load().sinks;
    assert.equal(rest.length, 0);
    assert.deepEqual(influx, {
      name: 'influx',
      type: 'influx',
      url: 'http://127.0.0.1:8086',
      token: '',
      org: 'edgebridge',
      bucket: 'edgebridge',
      gzip: true,
      tls: { caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true },
      batch: { maxPoints: 5000, maxBytes: 1048576, flushIntervalMs: 1000 },
      resilience: { timeoutMs: 10000, retryInitialMs: 1000, retryMaxMs: 30000, breakerThreshold: 3, breakerHalfOpenAfterMs: 30000 },
    });
    assert.equal(redis?.type, 'redis');
    assert.equal(redis?.name, 'redis');
    if (redis?.type === 'redis') {
      assert.equal(redis.url, 'redis://127.0.0.1:6379');
      assert.equal(redis.keyPrefix, 'eb:');
      assert.equal(redis.deviceTag, 'device');
      assert.equal(redis.streamMaxLen, 100000);
      assert.equal(redis.latest && redis.streams, true);
    }
  });

  it('sanitises the host name into the default gatewayId', () => {
    assert.equal(loadConfig({ argv: [], env: {}, hostname: 'My Box_1.lan' }).gatewayId, 'my-box_1');
    assert.equal(loadConfig({ argv: [], env: {}, hostname: '...' }).gatewayId, 'edgebridge');
  });
});

describe('loadConfig sources', () => {
  it('env overrides defaults', () => {
    const c = load([], {
      EDGEBRIDGE_GATEWAY_ID: 'gw7',
      EDGEBRIDGE_MQTT_URL: 'mqtts://broker:8883',
      EDGEBRIDGE_MQTT_USERNAME: 'u',
      EDGEBRIDGE_INFLUX_URL: 'https://influx:8086',
      EDGEBRIDGE_INFLUX_ORG: 'o',
      EDGEBRIDGE_INFLUX_BUCKET: 'b',
      EDGEBRIDGE_REDIS_URL: 'rediss://r:6380',
      EDGEBRIDGE_HTTP_HOST: '0.0.0.0',
      EDGEBRIDGE_HTTP_PORT: '9090',
      EDGEBRIDGE_SPOOL_DIR: '/tmp/spool',
      EDGEBRIDGE_SPOOL_MAX_BYTES: '1024',
      EDGEBRIDGE_LOG_LEVEL: 'debug',
      EDGEBRIDGE_MQTT_CLEAN: 'yes',
      EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'a/#:0,b/+',
    });
    assert.equal(c.gatewayId, 'gw7');
    assert.equal(c.mqtt.url, 'mqtts://broker:8883');
    assert.equal(c.mqtt.username, 'u');
    assert.equal(c.mqtt.clean, true);
    assert.deepEqual(c.mqtt.subscriptions, [
      { topic: 'a/#', qos: 0 },
      { topic: 'b/+', qos: 1 },
    ]);
    assert.equal(c.http.host, '0.0.0.0');
    assert.equal(c.http.port, 9090);
    assert.equal(c.spool.dir, '/tmp/spool');
    assert.equal(c.spool.maxBytes, 1024);
    assert.equal(c.log.level, 'debug');
    const [influx, redis] = c.sinks;
    assert.equal(influx?.type === 'influx' && `${influx.url} ${influx.org} ${influx.bucket}`, 'https://influx:8086 o b');
    assert.equal(redis?.url, 'rediss://r:6380');
  });

  it('file overrides defaults, env overrides file, CLI overrides env', () => {
    const config = file('precedence.json', { http: { port: 1111, host: '10.0.0.1' }, log: { level: 'warn' }, gatewayId: 'from-file' });
    const fromFile = load(['--config', config]);
    assert.equal(fromFile.http.port, 1111);
    assert.equal(fromFile.http.host, '10.0.0.1');
    assert.equal(fromFile.log.level, 'warn');
    assert.equal(fromFile.gatewayId, 'from-file');
    assert.equal(fromFile.mqtt.url, 'mqtt://127.0.0.1:1883', 'keys the file omits keep their defaults');

    const fromEnv = load(['--config', config], { EDGEBRIDGE_HTTP_PORT: '2222' });
    assert.equal(fromEnv.http.port, 2222);
    assert.equal(fromEnv.http.host, '10.0.0.1');

    const fromCli = load(['--config', config, '--http-port', '3333'], { EDGEBRIDGE_HTTP_PORT: '2222' });
    assert.equal(fromCli.http.port, 3333);
  });

  it('finds the file through EDGEBRIDGE_CONFIG, --config wins', () => {
    const a = file('a.json', { gatewayId: 'a' });
    const b = file('b.json', { gatewayId: 'b' });
    assert.equal(load([], { EDGEBRIDGE_CONFIG: a }).gatewayId, 'a');
    assert.equal(load([`--config=${b}`], { EDGEBRIDGE_CONFIG: a }).gatewayId, 'b');
  });

  it('refuses an empty config file, naming it; {} is the way to say "no settings"', () => {
    const empty = file('empty.json', '');
    assert.throws(
      () => load(['--config', empty]),
      (e: unknown) => e instanceof ConfigError && e.message.includes(empty) && /empty \(0 bytes\)/.test(e.message),
    );
    assert.equal(load(['--config', file('braces.json', '{}')]).gatewayId, 'edge-01');
  });

  it('ignores commands and flags it does not own', () => {
    const c = load(['check-config', '--json', '--verbose', 'extra', '--mqtt-url=ws://b:9001', '--', '--http-port', '1']);
    assert.equal(c.mqtt.url, 'ws://b:9001');
    assert.equal(c.http.port, 8080, 'arguments after -- are not ours');
  });

  it('parses boolean flags in all forms', () => {
    assert.equal(load(['--mqtt-clean']).mqtt.clean, true);
    assert.equal(load(['--mqtt-clean', 'check-config']).mqtt.clean, true);
    assert.equal(load(['--mqtt-clean', 'false']).mqtt.clean, false);
    assert.equal(load(['--mqtt-clean=true', '--no-mqtt-clean']).mqtt.clean, false, 'later flag wins');
    assert.equal(load(['--no-gateway-tag']).gatewayTag, false);
    assert.equal(
      load(['--no-influx-enabled'])
        .sinks.map((s) => s.name)
        .join(),
      'redis',
    );
  });

  it('keeps flag values verbatim (no number parsing of ids)', () => {
    assert.equal(load(['--gateway-id', '0x10']).gatewayId, '0x10');
    assert.equal(load(['--gateway-id', '1e3']).gatewayId, '1e3');
  });

  it('rejects a value flag without a value', () => {
    assert.throws(
      () => load(['--mqtt-url']),
      (e: unknown) => e instanceof ConfigError && e.key === 'mqtt.url' && /--mqtt-url has no value/.test(e.message),
    );
    assert.throws(() => load(['--config']), ConfigError);
  });

  it('disables sinks through env', () => {
    assert.deepEqual(load([], { EDGEBRIDGE_INFLUX_ENABLED: 'false', EDGEBRIDGE_REDIS_ENABLED: 'false' }).sinks, []);
  });
});

describe('derived values', () => {
  it('derives clientId from gatewayId unless set', () => {
    assert.equal(load([], { EDGEBRIDGE_GATEWAY_ID: 'press-4' }).mqtt.clientId, 'edgebridge-press-4');
    assert.equal(load([], { EDGEBRIDGE_MQTT_CLIENT_ID: 'fixed' }).mqtt.clientId, 'fixed');
    assert.equal(load(['--mqtt-client-id', 'cli']).mqtt.clientId, 'cli');
  });

  it('substitutes {gatewayId} in statusTopic; empty disables', () => {
    const path = file('status.json', { gatewayId: 'gw', mqtt: { statusTopic: 'site/{gatewayId}/{gatewayId}' } });
    assert.equal(load(['--config', path]).mqtt.statusTopic, 'site/gw/gw');
    assert.equal(load(['--mqtt-status-topic=']).mqtt.statusTopic, '');
  });

  it('lists extra sinks after the defaults and lets routes address them', () => {
    const path = file('extra.json', {
      sinks: {
        redis: { enabled: false },
        extra: [
          { name: 'cloud', type: 'influx', url: 'https://cloud:443', bucket: 'x' },
          { name: 'redis', type: 'redis', keyPrefix: 'r2:' },
          { name: 'off', type: 'redis', enabled: false },
        ],
      },
      routes: [{ topic: 'a/{measurement}', sinks: ['cloud', 'redis'] }],
    });
    const c = load(['--config', path]);
    assert.deepEqual(
      c.sinks.map((s) => `${s.name}:${s.type}`),
      ['influx:influx', 'cloud:influx', 'redis:redis'],
    );
    const cloud = c.sinks[1];
    assert.equal(cloud?.type === 'influx' && cloud.org, 'edgebridge', 'extra sinks take the type defaults');
    assert.deepEqual(cloud?.batch, { maxPoints: 5000, maxBytes: 1048576, flushIntervalMs: 1000 });
  });
});
