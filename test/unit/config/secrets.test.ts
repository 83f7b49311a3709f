import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { loadConfig, loadConfigDetailed } from '../../../src/config/loadConfig.ts';
import { redactConfig } from '../../../src/log/redactConfig.ts';
import type { InfluxSinkConfig, RedisSinkConfig } from '../../../src/config/Config.ts';

const dir = mkdtempSync(join(tmpdir(), 'eb-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const credentials = join(dir, 'credentials');
mkdirSync(credentials);
writeFileSync(join(credentials, 'mqtt_password'), 'cred-mqtt\n');
writeFileSync(join(credentials, 'influx_token'), 'cred-influx\n');
writeFileSync(join(credentials, 'redis_password'), 'cred-redis');

const configFile = write(
  'with-secrets.json',
  JSON.stringify({
    mqtt: { password: 'file-mqtt' },
    sinks: { influx: { token: 'file-influx' }, redis: { password: 'file-redis' } },
  }),
);

const load = (env: Record<string, string>, argv: string[] = []) => loadConfig({ argv, env, hostname: 'h' });
const influx = (c: ReturnType<typeof load>) => c.sinks.find((s) => s.name === 'influx') as InfluxSinkConfig;
const redis = (c: ReturnType<typeof load>) => c.sinks.find((s) => s.name === 'redis') as RedisSinkConfig;

describe('secrets', () => {
  it('reads <ENV>_FILE, dropping the trailing newline', () => {
    const c = load({
      EDGEBRIDGE_MQTT_PASSWORD_FILE: write('mqtt.pw', 'pw-from-file\n'),
      EDGEBRIDGE_INFLUX_TOKEN_FILE: write('influx.tok', 'tok-from-file\r\n'),
      EDGEBRIDGE_REDIS_PASSWORD_FILE: write('redis.pw', 'redis-from-file'),
    });
    assert.equal(c.mqtt.password, 'pw-from-file');
    assert.equal(influx(c).token, 'tok-from-file');
    assert.equal(redis(c).password, 'redis-from-file');
  });

  it('reads systemd credentials from $CREDENTIALS_DIRECTORY', () => {
    const c = load({ CREDENTIALS_DIRECTORY: credentials });
    assert.equal(c.mqtt.password, 'cred-mqtt');
    assert.equal(influx(c).token, 'cred-influx');
    assert.equal(redis(c).password, 'cred-redis');
  });

  it('precedence: env > _FILE > credentials > config file > default', () => {
    const fileVar = write('p.pw', 'from-_FILE\n');
    const argv = ['--config', configFile];
    assert.equal(load({}).mqtt.password, '', 'default');
    assert.equal(load({}, argv).mqtt.password, 'file-mqtt', 'config file');
    assert.equal(load({ CREDENTIALS_DIRECTORY: credentials }, argv).mqtt.password, 'cred-mqtt', 'credentials beat the file');
    assert.equal(
      load({ CREDENTIALS_DIRECTORY: credentials, EDGEBRIDGE_MQTT_PASSWORD_FILE: fileVar }, argv).mqtt.password,
      'from-_FILE',
      '_FILE beats credentials',
    );
    assert.equal(
      load({ CREDENTIALS_DIRECTORY: credentials, EDGEBRIDGE_MQTT_PASSWORD_FILE: fileVar, EDGEBRIDGE_MQTT_PASSWORD: 'from-env' }, argv).mqtt
        .password,
      'from-env',
      'env beats _FILE',
    );
    // A credential that is not there falls through to the file.
    const c = load({ CREDENTIALS_DIRECTORY: join(dir, 'nowhere') }, argv);
    assert.equal(influx(c).token, 'file-influx');
    assert.equal(redis(c).password, 'file-redis');
  });

  it('reports where each secret came from, never its value', () => {
    const r = loadConfigDetailed({ argv: [], env: { CREDENTIALS_DIRECTORY: credentials, EDGEBRIDGE_INFLUX_TOKEN: 'x' } });
    assert.deepEqual(r.secretSources, {
      'mqtt.password': 'credential mqtt_password',
      'sinks.influx.token': 'EDGEBRIDGE_INFLUX_TOKEN',
      'sinks.redis.password': 'credential redis_password',
    });
  });

  it("the Sentinels' own password: env, _FILE, credential redis_sentinel_password; redacted like the others", () => {
    assert.equal(redis(load({ EDGEBRIDGE_REDIS_SENTINEL_PASSWORD: 'sent-env' })).sentinelPassword, 'sent-env');
    assert.equal(
      redis(load({ EDGEBRIDGE_REDIS_SENTINEL_PASSWORD_FILE: write('sentinel.pw', 'sent-file\n') })).sentinelPassword,
      'sent-file',
    );
    const creds = join(dir, 'sentinel-credentials');
    mkdirSync(creds, { recursive: true });
    writeFileSync(join(creds, 'redis_sentinel_password'), 'sent-cred');
    const r = loadConfigDetailed({ argv: [], env: { CREDENTIALS_DIRECTORY: creds, EDGEBRIDGE_REDIS_SENTINEL_USERNAME: 'watcher' } });
    assert.equal(redis(r.config).sentinelPassword, 'sent-cred');
    assert.equal(redis(r.config).sentinelUsername, 'watcher');
    assert.equal(r.secretSources['sinks.redis.sentinelPassword'], 'credential redis_sentinel_password');
    assert.ok(!JSON.stringify(redactConfig(r.config)).includes('sent-cred'), 'print-config shows no Sentinel password');
  });

  it('an unreadable _FILE is a ConfigError naming the variable', () => {
    assert.throws(
      () => load({ EDGEBRIDGE_INFLUX_TOKEN_FILE: join(dir, 'missing') }),
      (e: unknown) => e instanceof ConfigError && e.key === 'sinks.influx.token' && e.message.includes('EDGEBRIDGE_INFLUX_TOKEN_FILE'),
    );
  });

  it('secrets have no CLI flags', () => {
    assert.equal(load({}, ['--mqtt-password', 'p', '--influx-token', 't']).mqtt.password, '');
  });

  it('extra sinks take secrets from EDGEBRIDGE_SINK_<NAME>_*, _FILE and credentials', () => {
    const cfg = write(
      'extra-secrets.json',
      JSON.stringify({
        sinks: {
          extra: [
            { name: 'cloud-eu', type: 'influx', token: 'in-file' },
            { name: 'cache', type: 'redis' },
          ],
        },
      }),
    );
    writeFileSync(join(credentials, 'sink_cache_password'), 'cache-cred\n');
    const c = load({ EDGEBRIDGE_SINK_CLOUD_EU_TOKEN_FILE: write('cloud.tok', 'cloud-tok\n'), CREDENTIALS_DIRECTORY: credentials }, [
      '--config',
      cfg,
    ]);
    assert.equal((c.sinks.find((s) => s.name === 'cloud-eu') as InfluxSinkConfig).token, 'cloud-tok');
    assert.equal((c.sinks.find((s) => s.name === 'cache') as RedisSinkConfig).password, 'cache-cred');
    assert.equal((load({}, ['--config', cfg]).sinks.find((s) => s.name === 'cloud-eu') as InfluxSinkConfig).token, 'in-file');
  });
});

describe('secrets never leak', () => {
  const secret = 'hunter2-SECRET';

  it('redactConfig hides every secret, including credentials in URLs', () => {
    const cfg = write(
      'leaky.json',
      JSON.stringify({
        mqtt: { url: `mqtts://user:${secret}@broker:8883`, password: secret },
        sinks: {
          influx: { token: secret },
          redis: { url: `redis://default:${secret}@r:6379`, password: secret },
          extra: [
            { name: 'r2', type: 'redis', url: `rediss://${secret}@r2:6380` },
            { name: 'c', type: 'influx', url: `https://c/?token=${secret}` },
          ],
        },
      }),
    );
    const c = load({}, ['--config', cfg]);
    const text = JSON.stringify(redactConfig(c));
    assert.ok(!text.includes(secret), text);
    assert.ok(text.includes('mqtts://user:[redacted]@broker:8883'));
    assert.ok(text.includes('"password":"[redacted]"'));
    assert.ok(text.includes('"token":"[redacted]"'));
    assert.equal(c.mqtt.password, secret, 'the config itself keeps the real value');
  });

  it('error messages never show secret values', () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ EDGEBRIDGE_MQTT_URL: `ftp://u:${secret}@x` }, []],
      [{ EDGEBRIDGE_REDIS_URL: `http://:${secret}@r` }, []],
      [{}, ['--config', write('bad-token.json', JSON.stringify({ sinks: { influx: { token: 42 } } }))]],
      [{}, ['--config', write('misspelt.json', JSON.stringify({ mqtt: { pasword: secret } }))]],
      [{}, ['--config', write('extra-misspelt.json', JSON.stringify({ sinks: { extra: [{ name: 'c', type: 'influx', tokn: secret }] } }))]],
      [
        {},
        ['--config', write('extra-badtoken.json', JSON.stringify({ sinks: { extra: [{ name: 'c', type: 'influx', token: [secret] }] } }))],
      ],
      [{}, ['--config', write('broken.json', `{"mqtt": {"password": "${secret}" oops}}`)]],
    ];
    for (const [env, argv] of cases) {
      assert.throws(
        () => load(env, argv),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.ok(!e.message.includes(secret), e.message);
          assert.ok(!JSON.stringify(e.value ?? null).includes(secret), e.message);
          return true;
        },
      );
    }
  });
});
