import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { diffConfig } from '../../../src/reload/diffConfig.ts';
import { createTestPki, type TestPki } from '../../harness/certificates.ts';

let old: TestPki;
let renewed: TestPki;
let dir: string;
before(() => {
  old = createTestPki();
  renewed = createTestPki();
  dir = mkdtempSync(join(tmpdir(), 'eb-difftls-'));
});
after(() => {
  old?.destroy();
  renewed?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The files the gateway is configured with, filled from one of the two PKIs (renewed in place). */
const files = () => ({ ca: join(dir, 'ca.pem'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') });
function install(pki: TestPki, which: readonly ('ca' | 'cert' | 'key')[] = ['ca', 'cert', 'key']): void {
  const f = files();
  if (which.includes('ca')) copyFileSync(pki.caFile, f.ca);
  if (which.includes('cert')) copyFileSync(pki.client.cert, f.cert);
  if (which.includes('key')) copyFileSync(pki.client.key, f.key);
}
const load = (env: Record<string, string> = {}) => {
  const f = files();
  return loadConfig({
    argv: [],
    env: {
      EDGEBRIDGE_GATEWAY_ID: 'gw',
      EDGEBRIDGE_SPOOL_DIR: join(dir, 'spool'),
      EDGEBRIDGE_MQTT_URL: 'mqtts://127.0.0.1:8883',
      EDGEBRIDGE_MQTT_TLS_CA_FILE: f.ca,
      EDGEBRIDGE_MQTT_TLS_CERT_FILE: f.cert,
      EDGEBRIDGE_MQTT_TLS_KEY_FILE: f.key,
      EDGEBRIDGE_INFLUX_URL: 'https://127.0.0.1:8086',
      EDGEBRIDGE_INFLUX_TLS_CA_FILE: f.ca,
      EDGEBRIDGE_REDIS_ENABLED: 'false',
      ...env,
    },
    hostname: 'h',
  });
};

describe('diffConfig: TLS files renewed under the same paths', () => {
  it('the same files: nothing to do', () => {
    install(old);
    const d = diffConfig(load(), load());
    assert.deepEqual(d.liveKeys, []);
    assert.equal(d.tlsRenewed.mqtt, undefined);
    assert.deepEqual(d.tlsRenewed.sinks, []);
  });

  it('a renewed client certificate and key: a live change of mqtt.tls, naming the files, with the new material', () => {
    install(old);
    const a = load();
    install(renewed, ['cert', 'key']);
    const b = load();
    const d = diffConfig(a, b);
    assert.deepEqual(d.restartKeys, []);
    assert.deepEqual(d.liveKeys, ['mqtt.tls (renewed: certFile, keyFile)']);
    assert.equal(d.tlsRenewed.mqtt, b.mqtt.tls);
    assert.deepEqual(d.tlsRenewed.mqtt?.files?.cert, b.mqtt.tls.files?.cert);
    assert.deepEqual(d.tlsRenewed.sinks, [], 'the sink shares only the CA file, which did not change');
    assert.equal(d.router, false);
  });

  it('a renewed CA bundle used by both: the MQTT connection and the sink', () => {
    install(old);
    const a = load();
    install(renewed, ['ca']);
    const d = diffConfig(a, load());
    assert.deepEqual(d.liveKeys, ['mqtt.tls (renewed: caFile)', 'sinks.influx.tls (renewed: caFile)']);
    assert.deepEqual(
      d.tlsRenewed.sinks.map((s) => s.name),
      ['influx'],
    );
  });

  it('another path is a changed key, as before: a restart (whatever the contents)', () => {
    install(old);
    const other = join(dir, 'other-ca.pem');
    copyFileSync(renewed.caFile, other);
    const d = diffConfig(load(), load({ EDGEBRIDGE_MQTT_TLS_CA_FILE: other }));
    assert.deepEqual(d.restartKeys, ['mqtt.tls.caFile']);
    assert.equal(d.tlsRenewed.mqtt, undefined);
  });

  it('renewed material alongside another connection key (the url): the url needs a restart', () => {
    install(old);
    const a = load();
    install(renewed, ['cert', 'key']);
    const d = diffConfig(a, load({ EDGEBRIDGE_MQTT_URL: 'mqtts://127.0.0.1:8884' }));
    assert.deepEqual(d.restartKeys, ['mqtt.url']);
  });

  it('the digests are not enumerable: print-config and JSON never show them', () => {
    install(old);
    const c = load();
    assert.equal(Object.keys(c.mqtt.tls).includes('digests'), false);
    assert.equal(JSON.stringify(c.mqtt.tls).includes(c.mqtt.tls.digests.certFile!), false);
    assert.match(c.mqtt.tls.digests.certFile!, /^[0-9a-f]{64}$/);
  });
});
