import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { createRedisConnection } from '../../../src/sinks/redis/createRedisConnection.ts';
import { createTestPki, type TestPki } from '../../harness/certificates.ts';
import { redisSinkConfig, type RedisSinkOverrides } from '../../fakes/redisSinkConfig.ts';

/**
 * The TLS options each mode hands to ioredis, read back from the (never connected: lazyConnect) clients. Standalone
 * TLS is tested against a real redis-server in test/integration/sinks/RedisAuthTls.test.ts; Sentinel and Cluster
 * TLS setups are not started by the harness, so their wiring is checked here.
 */
describe('createRedisConnection: one tls block in every mode', () => {
  let pki: TestPki;
  before(() => {
    pki = createTestPki();
  });
  after(() => pki?.destroy());

  const connect = (url: string, overrides: RedisSinkOverrides) =>
    createRedisConnection(redisSinkConfig(url, overrides), { reconnectDelay: () => 1000 });
  const files = () => ({ caFile: pki.caFile, certFile: pki.client.cert, keyFile: pki.client.key, rejectUnauthorized: true });
  const expected = () => ({
    ca: readFileSync(pki.caFile),
    cert: readFileSync(pki.client.cert),
    key: readFileSync(pki.client.key),
    rejectUnauthorized: true,
  });

  it('standalone rediss://: file contents, verification on', () => {
    const { client } = connect('rediss://127.0.0.1:6380', { tls: files() });
    assert.deepEqual((client as Redis).options.tls, expected());
  });

  it('sentinel rediss://: the master and the Sentinels get the same TLS options', () => {
    const { client } = connect('rediss://127.0.0.1:6380', {
      mode: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      tls: { ...files(), rejectUnauthorized: false },
    });
    const options = (client as Redis).options;
    const tls = { ...expected(), rejectUnauthorized: false };
    assert.deepEqual(options.tls, tls);
    assert.deepEqual(options.sentinelTLS, tls);
    assert.equal(options.enableTLSForSentinelMode, true);
  });

  it('cluster rediss://: every node gets the TLS options, and addresses are not resolved', () => {
    const { client } = connect('rediss://127.0.0.1:7000', { mode: 'cluster', tls: files() });
    const options = (client as Cluster).options;
    assert.deepEqual(options.redisOptions?.tls, expected());
    let resolved: string | undefined;
    options.dnsLookup!('node-3.example', (_err, address) => (resolved = address));
    assert.equal(resolved, 'node-3.example');
  });

  it('redis:// in any mode: no TLS', () => {
    assert.equal((connect('redis://127.0.0.1:6379', {}).client as Redis).options.tls, undefined);
    const cluster = connect('redis://127.0.0.1:7000', { mode: 'cluster' }).client as Cluster;
    assert.equal(cluster.options.redisOptions?.tls, undefined);
  });

  it('the TLS files are read once, at load: a file gone since is not read again, and the label names the sink', () => {
    const ca = `${pki.dir}/gone.pem`;
    copyFileSync(pki.caFile, ca);
    const config = redisSinkConfig('rediss://127.0.0.1:6380', { name: 'edge', tls: { ...files(), caFile: ca } });
    rmSync(ca);
    const { client } = createRedisConnection(config, { reconnectDelay: () => 1000 });
    assert.deepEqual((client as Redis).options.tls, expected());
    assert.equal(config.tls.label, 'sinks.extra[name=edge].tls');
    assert.deepEqual(config.tls, { ...files(), caFile: ca }, 'prints and compares as the configured paths');
  });
});
