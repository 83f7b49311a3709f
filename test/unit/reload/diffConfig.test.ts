import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { diffConfig } from '../../../src/reload/diffConfig.ts';

const BASE = { EDGEBRIDGE_GATEWAY_ID: 'gw', EDGEBRIDGE_SPOOL_DIR: '/tmp/eb-diff' };
const load = (env: Record<string, string> = {}) => loadConfig({ argv: [], env: { ...BASE, ...env }, hostname: 'h' });
const extra = (sinks: unknown[]) => ({ EDGEBRIDGE_SINKS_EXTRA: JSON.stringify(sinks) });

describe('diffConfig: what a reload applies live', () => {
  it('the same configuration: nothing to do', () => {
    const d = diffConfig(load(), load());
    assert.deepEqual(d.restartKeys, []);
    assert.deepEqual(d.liveKeys, []);
    assert.equal(d.router, false);
  });

  it('mqtt.connections needs a restart (its client ids and share group are the sessions at the broker)', () => {
    assert.deepEqual(diffConfig(load(), load({ EDGEBRIDGE_MQTT_CONNECTIONS: '4' })).restartKeys, ['mqtt.connections']);
    // auto resolves to the same count: nothing changed.
    assert.deepEqual(diffConfig(load({ EDGEBRIDGE_MQTT_CONNECTIONS: '1' }), load()).restartKeys, []);
  });

  it("sparkplug.hostId needs a restart: the STATE is the connection's Will, registered in its CONNECT", () => {
    const host = {
      EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'sparkplug' }]),
      EDGEBRIDGE_MQTT_STATUS_TOPIC: '',
    };
    const d = diffConfig(load(host), load({ ...host, EDGEBRIDGE_SPARKPLUG_HOST_ID: 'scada' }));
    assert.deepEqual(d.restartKeys, ['sparkplug.hostId']);
  });

  it('routes, per-point limits and the gateway tag: a new router', () => {
    const routes = JSON.stringify([{ topic: 'plant/{device}/{measurement}' }]);
    const envs: Record<string, string>[] = [
      { EDGEBRIDGE_ROUTES: routes },
      { EDGEBRIDGE_MQTT_MAX_PAYLOAD_BYTES: '1000' },
      { EDGEBRIDGE_MQTT_MAX_FIELDS_PER_POINT: '10' },
      { EDGEBRIDGE_GATEWAY_TAG: 'false' },
    ];
    for (const env of envs) {
      const d = diffConfig(load(), load(env));
      assert.deepEqual(d.restartKeys, [], JSON.stringify(env));
      assert.equal(d.router, true, JSON.stringify(env));
      assert.equal(d.liveKeys.length, 1);
    }
  });

  it('subscriptions: the new filters (or a new QoS) are subscribed, the removed ones unsubscribed', () => {
    const d = diffConfig(
      load({ EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'sensors/#:1,old/#:1,q/#:0' }),
      load({ EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'sensors/#:1,new/#:1,q/#:1' }),
    );
    assert.deepEqual(d.restartKeys, []);
    assert.deepEqual(d.liveKeys, ['mqtt.subscriptions']);
    assert.deepEqual(d.subscriptions, {
      subscribe: [
        { topic: 'new/#', qos: 1 },
        { topic: 'q/#', qos: 1 },
      ],
      unsubscribe: ['old/#'],
    });
    assert.equal(d.router, false, 'subscriptions alone do not change routing');
  });

  it("each sink's batch and resilience settings, the log level and the shutdown timeout", () => {
    const d = diffConfig(
      load(),
      load({
        EDGEBRIDGE_INFLUX_BATCH_MAX_POINTS: '10',
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_MAX_MS: '5000',
        EDGEBRIDGE_LOG_LEVEL: 'debug',
        EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '2000',
      }),
    );
    assert.deepEqual(d.restartKeys, []);
    assert.deepEqual([...d.liveKeys].sort(), [
      'log.level',
      'shutdown.timeoutMs',
      'sinks.influx.batch.maxPoints',
      'sinks.redis.resilience.retryMaxMs',
    ]);
    assert.equal(d.logLevel, 'debug');
    assert.equal(d.shutdownTimeoutMs, 2000);
    assert.deepEqual(
      d.sinksTuned.map((t) => [t.name, t.batch.maxPoints, t.resilience.retryMaxMs]),
      [
        ['influx', 10, 30000],
        ['redis', 5000, 5000],
      ],
    );
  });

  it('sinks added and removed by name; the router changes with them', () => {
    const cloud = { name: 'cloud', type: 'influx', url: 'http://10.0.0.1:8086' };
    const d = diffConfig(load({ EDGEBRIDGE_REDIS_ENABLED: 'false' }), load(extra([cloud])));
    assert.deepEqual(d.restartKeys, []);
    assert.deepEqual(
      d.sinksAdded.map((s) => s.name),
      ['redis', 'cloud'],
    );
    assert.deepEqual(d.sinksRemoved, []);
    assert.equal(d.router, true);
    const back = diffConfig(load(extra([cloud])), load({ EDGEBRIDGE_REDIS_ENABLED: 'false' }));
    assert.deepEqual(back.sinksRemoved, ['redis', 'cloud']);
    assert.deepEqual(back.liveKeys, ['sinks.redis (removed)', 'sinks.extra[name=cloud] (removed)']);
  });
});

describe('diffConfig: what needs a restart (the reload is refused, naming the keys)', () => {
  it('spool, gateway id, client id, HTTP, the broker connection, dead letters, status topic', () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ EDGEBRIDGE_SPOOL_DIR: '/tmp/other' }, ['spool.dir']],
      [{ EDGEBRIDGE_SPOOL_TYPE: 'memory' }, ['spool.type']],
      [{ EDGEBRIDGE_SPOOL_MAX_BYTES: '1000000' }, ['spool.maxBytes']],
      // The gateway id also names the client id and the topics derived from it.
      [{ EDGEBRIDGE_GATEWAY_ID: 'gw2' }, ['gatewayId', 'mqtt.clientId', 'mqtt.statusTopic', 'mqtt.deadLetterTopic']],
      [{ EDGEBRIDGE_MQTT_CLIENT_ID: 'other' }, ['mqtt.clientId']],
      [{ EDGEBRIDGE_HTTP_PORT: '9999' }, ['http.port']],
      [{ EDGEBRIDGE_HTTP_TOKEN: 'secret' }, ['http.token']],
      [{ EDGEBRIDGE_MQTT_URL: 'mqtt://10.0.0.2:1883' }, ['mqtt.url']],
      [{ EDGEBRIDGE_MQTT_CLEAN: 'true' }, ['mqtt.clean']],
      [{ EDGEBRIDGE_LOG_COLLAPSE_INTERVAL_MS: '5' }, ['log.collapseIntervalMs']],
    ];
    for (const [env, keys] of cases) {
      const d = diffConfig(load(), load(env));
      assert.deepEqual(d.restartKeys, keys, JSON.stringify(env));
    }
  });

  it("a kept sink's connection settings (url, token, bucket, type) need a restart; its batch keys do not", () => {
    const d = diffConfig(
      load(),
      load({ EDGEBRIDGE_INFLUX_URL: 'http://10.0.0.3:8086', EDGEBRIDGE_INFLUX_TOKEN: 't', EDGEBRIDGE_INFLUX_BATCH_MAX_POINTS: '7' }),
    );
    assert.deepEqual(d.restartKeys, ['sinks.influx.url', 'sinks.influx.token']);
    assert.deepEqual(d.liveKeys, ['sinks.influx.batch.maxPoints']);
    const cloud = (type: string, url: string) => extra([{ name: 'cloud', type, url }]);
    const retyped = diffConfig(load(cloud('influx', 'http://10.0.0.1:8086')), load(cloud('redis', 'redis://10.0.0.1:6379')));
    assert.ok(retyped.restartKeys.includes('sinks.extra[name=cloud].type'), retyped.restartKeys.join());
  });

  it('keys are named, values never (a secret changed is named as its key)', () => {
    const d = diffConfig(load(), load({ EDGEBRIDGE_MQTT_PASSWORD: 'hunter2' }));
    assert.deepEqual(d.restartKeys, ['mqtt.password']);
    assert.ok(!JSON.stringify(d).includes('hunter2'));
  });
});
