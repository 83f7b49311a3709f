import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/runCli.ts';
import type { ConfigError } from '../../../src/errors/ConfigError.ts';
import { configFailure } from './configFailure.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { redactConfig } from '../../../src/log/redactConfig.ts';
import { describeTlsError } from '../../../src/tls/describeTlsError.ts';
import { insecureTls } from '../../../src/tls/insecureTls.ts';
import { createTestPki, type TestPki } from '../../harness/certificates.ts';

let pki: TestPki;
before(() => {
  pki = createTestPki();
});
after(() => pki?.destroy());

const load = (env: Record<string, string>, argv: string[] = []) => loadConfig({ argv, env, hostname: 'h' });

function failure(env: Record<string, string>, argv: string[] = []): ConfigError {
  return configFailure(() => load(env, argv));
}

const MQTTS = { EDGEBRIDGE_MQTT_URL: 'mqtts://broker.example:8883' };

describe('TLS settings', () => {
  it('default: verification on, no files, for MQTT, InfluxDB and Redis (one shape)', () => {
    const c = load({});
    const none = { caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true };
    assert.deepEqual(c.mqtt.tls, none);
    assert.deepEqual(
      c.sinks.map((s) => [s.type, s.tls]),
      [
        ['influx', none],
        ['redis', none],
      ],
    );
    assert.deepEqual(insecureTls(c), []);
  });

  it('a CA, client certificate and key load from env for mqtts:// and https://', () => {
    const c = load({
      ...MQTTS,
      EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile,
      EDGEBRIDGE_MQTT_TLS_CERT_FILE: pki.client.cert,
      EDGEBRIDGE_MQTT_TLS_KEY_FILE: pki.client.key,
      EDGEBRIDGE_INFLUX_URL: 'https://influx.example',
      EDGEBRIDGE_INFLUX_TLS_CA_FILE: pki.caFile,
    });
    assert.deepEqual(c.mqtt.tls, { caFile: pki.caFile, certFile: pki.client.cert, keyFile: pki.client.key, rejectUnauthorized: true });
  });

  it('the files are read once, at load, and carried with a display label; their contents never print', () => {
    const dir = mkdtempSync(join(pki.dir, 'once-'));
    const ca = join(dir, 'ca.pem');
    copyFileSync(pki.caFile, ca);
    const c = load({
      ...MQTTS,
      EDGEBRIDGE_MQTT_TLS_CA_FILE: ca,
      EDGEBRIDGE_MQTT_TLS_CERT_FILE: pki.client.cert,
      EDGEBRIDGE_MQTT_TLS_KEY_FILE: pki.client.key,
    });
    rmSync(ca); // the connect path must not need it again
    assert.equal(c.mqtt.tls.label, 'mqtt.tls');
    assert.deepEqual(c.mqtt.tls.files, {
      ca: readFileSync(pki.caFile),
      cert: readFileSync(pki.client.cert),
      key: readFileSync(pki.client.key),
      rejectUnauthorized: true,
    });
    assert.equal(c.sinks[0]!.tls.label, 'sinks.influx.tls');
    assert.equal(c.sinks[0]!.tls.files, undefined, 'plain http://: nothing read');
    const keyLine = readFileSync(pki.client.key, 'utf8').split('\n')[1]!;
    for (const text of [JSON.stringify(c), JSON.stringify(redactConfig(c))])
      assert.ok(!text.includes(keyLine) && !text.includes('"files"'));
  });

  it('a missing CA file is a config error naming key, value and fix', () => {
    const e = failure({ ...MQTTS, EDGEBRIDGE_MQTT_TLS_CA_FILE: '/nonexistent/ca.pem' });
    assert.equal(e.key, 'mqtt.tls.caFile');
    assert.equal(e.value, '/nonexistent/ca.pem');
    assert.match(e.message, /^config key "mqtt\.tls\.caFile": names a file that cannot be read \(ENOENT: \/nonexistent\/ca\.pem\)/);
    assert.match(e.message, /set EDGEBRIDGE_MQTT_TLS_CA_FILE or "mqtt\.tls\.caFile" in the config file/);
  });

  it('an unreadable key file (a directory) is a config error', () => {
    const e = failure({ ...MQTTS, EDGEBRIDGE_MQTT_TLS_CERT_FILE: pki.client.cert, EDGEBRIDGE_MQTT_TLS_KEY_FILE: pki.dir });
    assert.equal(e.key, 'mqtt.tls.keyFile');
    assert.match(e.message, /EISDIR/);
  });

  it('a file that is not PEM is a config error', () => {
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const e = failure({ EDGEBRIDGE_INFLUX_URL: 'https://influx.example', EDGEBRIDGE_INFLUX_TLS_CA_FILE: garbage });
    assert.equal(e.key, 'sinks.influx.tls.caFile');
    assert.match(e.message, /is not usable/);
    assert.match(e.message, /EDGEBRIDGE_INFLUX_TLS_CA_FILE/);
    const r = failure({ EDGEBRIDGE_REDIS_URL: 'rediss://r.example:6380', EDGEBRIDGE_REDIS_TLS_CA_FILE: garbage });
    assert.equal(r.key, 'sinks.redis.tls.caFile');
    assert.equal(r.value, garbage);
    assert.match(r.message, /^config key "sinks\.redis\.tls\.caFile": is not usable \(no PEM certificate in it\)/);
    assert.match(r.message, /set EDGEBRIDGE_REDIS_TLS_CA_FILE or "sinks\.redis\.tls\.caFile" in the config file/);
  });

  it('a certificate without its key (and the reverse) is a config error', () => {
    assert.equal(failure({ ...MQTTS, EDGEBRIDGE_MQTT_TLS_CERT_FILE: pki.client.cert }).key, 'mqtt.tls.keyFile');
    assert.equal(failure({ ...MQTTS, EDGEBRIDGE_MQTT_TLS_KEY_FILE: pki.client.key }).key, 'mqtt.tls.certFile');
  });

  it('a key that does not belong to the certificate is a config error, and the key never shows', () => {
    const e = failure({ ...MQTTS, EDGEBRIDGE_MQTT_TLS_CERT_FILE: pki.client.cert, EDGEBRIDGE_MQTT_TLS_KEY_FILE: pki.server.key });
    assert.equal(e.key, 'mqtt.tls.keyFile');
    assert.match(e.message, /is not usable \(.*mismatch/);
    const keyBody = readFileSync(pki.server.key, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'));
    for (const line of keyBody) assert.ok(!e.message.includes(line));
    const r = failure({
      EDGEBRIDGE_REDIS_URL: 'rediss://r:6380',
      EDGEBRIDGE_REDIS_TLS_CERT_FILE: pki.client.cert,
      EDGEBRIDGE_REDIS_TLS_KEY_FILE: pki.server.key,
    });
    assert.equal(r.key, 'sinks.redis.tls.keyFile');
    assert.match(r.message, /is not usable \(.*mismatch/);
  });

  it('TLS settings with a plain URL are refused: they would be ignored', () => {
    const e = failure({ EDGEBRIDGE_MQTT_TLS_CA_FILE: pki.caFile });
    assert.equal(e.key, 'mqtt.tls.caFile');
    assert.match(e.message, /mqtt\.url is a plain mqtt:\/\/ URL/);
    assert.match(e.message, /use mqtts:\/\/ in mqtt\.url/);
    const f = failure({ EDGEBRIDGE_INFLUX_TLS_REJECT_UNAUTHORIZED: 'false' });
    assert.equal(f.key, 'sinks.influx.tls.rejectUnauthorized');
    assert.match(f.message, /use https:\/\/ in sinks\.influx\.url/);
    const r = failure({ EDGEBRIDGE_REDIS_TLS_CA_FILE: pki.caFile });
    assert.equal(r.key, 'sinks.redis.tls.caFile');
    assert.match(r.message, /sinks\.redis\.url is a plain redis:\/\/ URL/);
    assert.match(r.message, /use rediss:\/\/ in sinks\.redis\.url, or unset sinks\.redis\.tls\.caFile/);
  });

  it("an extra sink's TLS file problem names its config-file key", () => {
    const file = join(pki.dir, 'extra.json');
    writeFileSync(
      file,
      JSON.stringify({
        sinks: { extra: [{ name: 'cloud', type: 'influx', url: 'https://cloud.example', tls: { caFile: '/nope.pem' } }] },
      }),
    );
    const e = failure({}, ['--config', file]);
    assert.equal(e.key, 'sinks.extra[0].tls.caFile');
    assert.match(e.message, /set "sinks\.extra\[0\]\.tls\.caFile" in the config file/);
    writeFileSync(
      file,
      JSON.stringify({
        sinks: { extra: [{ name: 'edge', type: 'redis', url: 'rediss://r2:6380', tls: { certFile: pki.client.cert } }] },
      }),
    );
    const r = failure({}, ['--config', file]);
    assert.equal(r.key, 'sinks.extra[0].tls.keyFile');
    assert.match(r.message, /set "sinks\.extra\[0\]\.tls\.keyFile" in the config file/);
  });

  it('rejectUnauthorized=false is listed for the start-up warning, for the broker and sinks of every type and mode', () => {
    const file = join(pki.dir, 'insecure.json');
    writeFileSync(
      file,
      JSON.stringify({
        sinks: { extra: [{ name: 'edge', type: 'redis', mode: 'cluster', url: 'rediss://r2:7000', tls: { rejectUnauthorized: false } }] },
      }),
    );
    const c = load(
      {
        ...MQTTS,
        EDGEBRIDGE_MQTT_TLS_REJECT_UNAUTHORIZED: 'false',
        EDGEBRIDGE_INFLUX_URL: 'https://influx.example',
        EDGEBRIDGE_INFLUX_TLS_REJECT_UNAUTHORIZED: 'false',
        EDGEBRIDGE_REDIS_URL: 'rediss://r:6380',
        EDGEBRIDGE_REDIS_MODE: 'sentinel',
        EDGEBRIDGE_REDIS_SENTINELS: '10.0.0.1:26379',
        EDGEBRIDGE_REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
      },
      ['--config', file],
    );
    assert.deepEqual(insecureTls(c), [
      { key: 'mqtt.tls.rejectUnauthorized', target: 'mqtt' },
      { key: 'sinks.influx.tls.rejectUnauthorized', target: 'sink influx' },
      { key: 'sinks.redis.tls.rejectUnauthorized', target: 'sink redis' },
      { key: 'sinks.extra[name=edge].tls.rejectUnauthorized', target: 'sink edge' },
    ]);
  });

  it('check-config exits 78 with the message on stderr', () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const outcome = runCli({ argv: ['check-config'], env: { ...MQTTS, EDGEBRIDGE_MQTT_TLS_CA_FILE: '/missing.pem' }, stdout, stderr });
    assert.deepEqual(outcome, { kind: 'exit', code: 78 });
    assert.match(String(stderr.read()), /configuration error: config key "mqtt\.tls\.caFile": names a file that cannot be read/);
  });
});

describe('describeTlsError', () => {
  const err = (code: string, message: string) => Object.assign(new Error(message), { code });
  it('names the setting to check for an untrusted server certificate', () => {
    assert.equal(
      describeTlsError(err('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'mqtt.tls'),
      'TLS: server certificate not accepted (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain); check mqtt.tls.caFile and the name/IP the certificate is issued for',
    );
    assert.match(describeTlsError(err('ERR_TLS_CERT_ALTNAME_INVALID', 'x'), 'mqtt.tls')!, /server certificate not accepted/);
  });
  it('points at the client certificate when the server refuses the handshake', () => {
    assert.match(describeTlsError(err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'x'), 'mqtt.tls')!, /mqtt\.tls\.certFile/);
  });
  it('leaves other errors alone', () => {
    assert.equal(describeTlsError(err('ECONNREFUSED', 'connect ECONNREFUSED'), 'mqtt.tls'), undefined);
    assert.equal(describeTlsError(new Error('plain'), 'mqtt.tls'), undefined);
  });
});
