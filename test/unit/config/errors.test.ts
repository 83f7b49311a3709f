import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CONFIG_EXIT_CODE, type ConfigError } from '../../../src/errors/ConfigError.ts';
import { configFailure } from './configFailure.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'eb-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function configFile(content: unknown): string {
  const path = join(dir, `c${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Loads and returns the ConfigError it must throw. */
function failure(opts: { file?: unknown; env?: Record<string, string>; argv?: string[] }): ConfigError {
  const argv = [...(opts.argv ?? []), ...(opts.file === undefined ? [] : ['--config', configFile(opts.file)])];
  return configFailure(() => loadConfig({ argv, env: opts.env ?? {}, hostname: 'h' }));
}

describe('ConfigError', () => {
  it('exports EX_CONFIG', () => {
    assert.equal(CONFIG_EXIT_CODE, 78);
  });

  it('bad mqtt url: the documented message', () => {
    const e = failure({ env: { EDGEBRIDGE_MQTT_URL: 'ftp://x' } });
    assert.equal(e.key, 'mqtt.url');
    assert.equal(e.value, 'ftp://x');
    assert.equal(e.expected, 'a URL with scheme mqtt, mqtts, ws or wss');
    assert.equal(
      e.message,
      'config key "mqtt.url": got "ftp://x" — expected a URL with scheme mqtt, mqtts, ws or wss (set EDGEBRIDGE_MQTT_URL or "mqtt.url" in the config file)',
    );
  });

  it('bad influx and redis urls', () => {
    assert.equal(failure({ env: { EDGEBRIDGE_INFLUX_URL: 'influx:8086' } }).key, 'sinks.influx.url');
    const e = failure({ file: { sinks: { redis: { url: 'http://r:6379' } } } });
    assert.equal(e.key, 'sinks.redis.url');
    assert.match(e.expected, /redis or rediss/);
    assert.match(e.message, /EDGEBRIDGE_REDIS_URL/);
  });

  it('bad port from env, file and CLI', () => {
    for (const e of [
      failure({ env: { EDGEBRIDGE_HTTP_PORT: 'eighty' } }),
      failure({ file: { http: { port: 70000 } } }),
      failure({ argv: ['--http-port', '-1'] }),
      failure({ env: { EDGEBRIDGE_HTTP_PORT: '80x' } }),
    ]) {
      assert.equal(e.key, 'http.port');
      assert.match(e.expected, /TCP port/);
    }
    assert.equal(failure({ env: { EDGEBRIDGE_HTTP_PORT: 'eighty' } }).value, 'eighty', 'shows what was typed, not NaN');
  });

  it('bad enum, boolean and integer values', () => {
    assert.equal(failure({ env: { EDGEBRIDGE_LOG_LEVEL: 'loud' } }).key, 'log.level');
    assert.equal(failure({ env: { EDGEBRIDGE_MQTT_PROTOCOL_VERSION: '3' } }).key, 'mqtt.protocolVersion');
    assert.equal(failure({ env: { EDGEBRIDGE_MQTT_CLEAN: 'maybe' } }).value, 'maybe');
    assert.equal(failure({ file: { spool: { overflow: 'explode' } } }).key, 'spool.overflow');
    assert.equal(failure({ file: { spool: { maxBytes: 1.5 } } }).key, 'spool.maxBytes');
    assert.equal(failure({ file: { gatewayId: 'a/b' } }).key, 'gatewayId');
  });

  it('names the route index and key', () => {
    const e = failure({
      file: { routes: [{ topic: 'a/{measurement}' }, { topic: 'b/{measurement}' }, { topic: 'c/{measurement}', format: 'xml' }] },
    });
    assert.equal(e.key, 'routes[2].format');
    assert.equal(e.value, 'xml');
    assert.equal(e.expected, 'one of json, number, line, sparkplug');
    assert.match(e.message, /^config key "routes\[2\]\.format": got "xml" — expected one of json, number, line, sparkplug/);
  });

  it('rejects other bad routes', () => {
    assert.equal(failure({ file: { routes: [{ format: 'json' }] } }).key, 'routes[0].topic');
    assert.equal(failure({ file: { routes: [{ topic: 'a/#/b' }] } }).key, 'routes[0].topic');
    assert.equal(failure({ file: { routes: [{ topic: 'a/{measurement}', timeUnit: 'h' }] } }).key, 'routes[0].timeUnit');
    assert.equal(failure({ file: { routes: [{ topic: 'a/{measurement}', colour: 'red' }] } }).key, 'routes[0].colour');
    assert.equal(failure({ file: { routes: [{ topic: 'a/{device}' }] } }).key, 'routes[0].measurement');
    assert.equal(failure({ file: { routes: [{ topic: 'a/{m}', measurement: '{m}', tags: { x: '{nope}' } }] } }).key, 'routes[0].tags.x');
    const sinks = failure({ file: { routes: [{ topic: 'a/{measurement}', sinks: ['nosuch'] }] } });
    assert.equal(sinks.key, 'routes[0].sinks[0]');
    assert.match(sinks.expected, /influx, redis/);
    assert.match(
      failure({ env: { EDGEBRIDGE_REDIS_ENABLED: 'false' }, file: { routes: [{ topic: 'a/{measurement}', sinks: ['redis'] }] } }).expected,
      /disabled/,
    );
  });

  it('rejects unknown keys, naming the key and suggesting the fix', () => {
    const e = failure({ file: { mqtt: { urll: 'mqtt://x' } } });
    assert.equal(e.key, 'mqtt.urll');
    assert.match(e.message, /unknown key/);
    assert.match(e.message, /did you mean "url"\?/);
    assert.ok(e.message.includes(dir), 'names the file to edit');
    assert.equal(failure({ file: { logging: { level: 'info' } } }).key, 'logging');
    assert.equal(failure({ file: { sinks: { influx: { batch: { maxPoint: 1 } } } } }).key, 'sinks.influx.batch.maxPoint');
    assert.equal(failure({ file: { mqtt: 'mqtt://x' } }).key, 'mqtt');
  });

  it('rejects bad extra sinks', () => {
    const type = failure({ file: { sinks: { extra: [{ name: 'x', type: 'kafka' }] } } });
    assert.equal(type.key, 'sinks.extra[0].type');
    assert.equal(type.value, 'kafka');
    assert.equal(type.expected, 'one of influx, redis');

    const dup = failure({
      file: {
        sinks: {
          extra: [
            { name: 'a', type: 'influx' },
            { name: 'a', type: 'redis' },
          ],
        },
      },
    });
    assert.equal(dup.key, 'sinks.extra[1].name');
    assert.equal(dup.value, 'a');
    assert.match(dup.expected, /not already used/);

    const clash = failure({ file: { sinks: { extra: [{ name: 'redis', type: 'redis' }] } } });
    assert.equal(clash.key, 'sinks.extra[0].name');
    assert.match(clash.expected, /sinks\.redis/);

    assert.equal(failure({ file: { sinks: { extra: [{ name: 'Cloud', type: 'influx' }] } } }).key, 'sinks.extra[0].name');
    assert.equal(failure({ file: { sinks: { extra: [{ type: 'influx' }] } } }).key, 'sinks.extra[0].name');
    assert.equal(failure({ file: { sinks: { extra: [{ name: 'c', type: 'influx', url: 'redis://x' }] } } }).key, 'sinks.extra[0].url');
    assert.equal(failure({ file: { sinks: { extra: [{ name: 'c', type: 'influx', streams: true }] } } }).key, 'sinks.extra[0].streams');
    assert.equal(
      failure({ file: { sinks: { extra: [{ name: 'c', type: 'redis', batch: { maxPoints: 0 } }] } } }).key,
      'sinks.extra[0].batch.maxPoints',
    );
  });

  it('a disabled default sink frees its name', () => {
    const c = loadConfig({
      argv: ['--config', configFile({ sinks: { redis: { enabled: false }, extra: [{ name: 'redis', type: 'redis' }] } })],
      env: {},
      hostname: 'h',
    });
    assert.deepEqual(
      c.sinks.map((s) => s.name),
      ['influx', 'redis'],
    );
  });

  it('bad subscriptions', () => {
    assert.equal(failure({ file: { mqtt: { subscriptions: [{ topic: 'a/#', qos: 3 }] } } }).key, 'mqtt.subscriptions[0].qos');
    assert.equal(failure({ file: { mqtt: { subscriptions: [{ topic: 'a/b#' }] } } }).key, 'mqtt.subscriptions[0].topic');
    assert.equal(failure({ file: { mqtt: { subscriptions: [] } } }).key, 'mqtt.subscriptions');
  });

  it('malformed shared subscriptions name the key, the value and the shape to use', () => {
    const cases: [unknown, string, RegExp][] = [
      [
        {
          file: {
            mqtt: {
              subscriptions: [
                { topic: 'a/#', qos: 1 },
                { topic: '$share//sensors/#', qos: 1 },
              ],
            },
          },
        },
        'mqtt.subscriptions[1].topic',
        /group name is empty/,
      ],
      [
        { file: { mqtt: { subscriptions: [{ topic: '$share/gw', qos: 1 }] } } },
        'mqtt.subscriptions[0].topic',
        /no topic filter after the share group "gw"/,
      ],
      [{ env: { EDGEBRIDGE_MQTT_SUBSCRIPTIONS: '$share/g+w/sensors/#:1' } }, 'mqtt.subscriptions[0].topic', /contains "\+" or "#"/],
    ];
    for (const [opts, key, why] of cases) {
      const e = failure(opts as Parameters<typeof failure>[0]);
      assert.equal(e.key, key);
      assert.match(e.expected, /\$share\/<group>\/<filter>/);
      assert.match(e.expected, why);
      assert.match(e.message, /got "\$share\//);
    }
    const bad = failure({ file: { mqtt: { subscriptions: [{ topic: '$share/gw/sensors/#x', qos: 1 }] } } });
    assert.equal(bad.key, 'mqtt.subscriptions[0].topic');
    assert.match(bad.expected, /^\$share\/gw\/ followed by an MQTT topic filter/);
    const route = failure({ file: { routes: [{ topic: '$share/g', measurement: 'm' }] } });
    assert.equal(route.key, 'routes[0].topic');
    assert.match(route.expected, /no topic filter after the share group "g"/);
  });

  it('shared subscriptions load, in both the file and the env shorthand', () => {
    const c = loadConfig({ argv: [], env: { EDGEBRIDGE_MQTT_SUBSCRIPTIONS: '$share/gw/sensors/#:1,alarms/+:2' }, hostname: 'h' });
    assert.deepEqual(c.mqtt.subscriptions, [
      { topic: '$share/gw/sensors/#', qos: 1 },
      { topic: 'alarms/+', qos: 2 },
    ]);
    const r = loadConfig({
      argv: ['--config', configFile({ routes: [{ topic: '$share/gw/sensors/{device}/{measurement}' }] })],
      env: {},
      hostname: 'h',
    });
    assert.equal(r.routes[0]!.topic, '$share/gw/sensors/{device}/{measurement}');
  });

  it('cross-field checks', () => {
    assert.equal(failure({ env: { EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '60000' } }).key, 'mqtt.reconnectMinMs');
    assert.equal(
      failure({ file: { sinks: { influx: { resilience: { retryInitialMs: 99999 } } } } }).key,
      'sinks.influx.resilience.retryInitialMs',
    );
  });

  it('missing or unparsable config file names the file', () => {
    const missing = join(dir, 'nope.json');
    const e = failure({ argv: ['--config', missing] });
    assert.ok(e.message.includes(missing));
    assert.match(e.message, /ENOENT/);
    const broken = configFile('{"gatewayId": "x",\n  oops }');
    const p = failure({ argv: ['--config', broken] });
    assert.ok(p.message.includes(broken));
    assert.match(p.message, /not valid JSON \(line 2/);
    assert.match(failure({ file: [1, 2] }).message, /does not hold a JSON object/);
  });
});
