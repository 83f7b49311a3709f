import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ConfigError } from '../../../src/errors/ConfigError.ts';
import { configFailure } from './configFailure.ts';
import type { RedisSinkConfig } from '../../../src/config/Config.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';

function redis(env: Record<string, string>): RedisSinkConfig {
  const config = loadConfig({ argv: [], env, hostname: 'h' });
  return config.sinks.find((s) => s.name === 'redis') as RedisSinkConfig;
}

function failure(env: Record<string, string>): ConfigError {
  return configFailure(() => loadConfig({ argv: [], env, hostname: 'h' }));
}

describe('Redis sink topology, TLS and WAIT config', () => {
  it('defaults: standalone, no TLS files, WAIT off', () => {
    const r = redis({});
    assert.equal(r.mode, 'standalone');
    assert.deepEqual(r.sentinels, []);
    assert.deepEqual(r.tls, { caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true });
    assert.equal(r.waitReplicas, 0);
  });

  it('sentinel addresses from env as h:p,h:p (IPv6 in brackets), cluster nodes as JSON', () => {
    const r = redis({
      EDGEBRIDGE_REDIS_MODE: 'sentinel',
      EDGEBRIDGE_REDIS_SENTINELS: '10.0.0.1:26379, [::1]:26380',
      EDGEBRIDGE_REDIS_CLUSTER_NODES: '["a.example:7000"]',
    });
    assert.equal(r.mode, 'sentinel');
    assert.deepEqual(r.sentinels, [
      { host: '10.0.0.1', port: 26379 },
      { host: '::1', port: 26380 },
    ]);
    assert.deepEqual(r.clusterNodes, [{ host: 'a.example', port: 7000 }]);
  });

  it('refuses: an unknown mode, a bad address, sentinel mode without sentinels', () => {
    assert.equal(failure({ EDGEBRIDGE_REDIS_MODE: 'sharded' }).key, 'sinks.redis.mode');
    const bad = failure({ EDGEBRIDGE_REDIS_SENTINELS: '10.0.0.1' });
    assert.equal(bad.key, 'sinks.redis.sentinels[0]');
    const none = failure({ EDGEBRIDGE_REDIS_MODE: 'sentinel' });
    assert.equal(none.key, 'sinks.redis.sentinels');
    assert.match(none.message, /EDGEBRIDGE_REDIS_SENTINELS/);
  });

  it('refuses a WAIT timeout that does not fit in one write attempt', () => {
    const e = failure({ EDGEBRIDGE_REDIS_WAIT_REPLICAS: '1', EDGEBRIDGE_REDIS_WAIT_TIMEOUT_MS: '10000' });
    assert.equal(e.key, 'sinks.redis.waitTimeoutMs');
    assert.match(e.message, /resilience\.timeoutMs/);
  });

  it('refuses TLS settings on a redis:// URL, a cert without key, and an unreadable CA file', () => {
    const plain = failure({ EDGEBRIDGE_REDIS_TLS_REJECT_UNAUTHORIZED: 'false' });
    assert.equal(plain.key, 'sinks.redis.tls.rejectUnauthorized');
    assert.match(plain.message, /use rediss:\/\/ in sinks\.redis\.url/);
    const tls = { EDGEBRIDGE_REDIS_URL: 'rediss://r.example:6380' };
    assert.equal(failure({ ...tls, EDGEBRIDGE_REDIS_TLS_CERT_FILE: '/etc/hostname' }).key, 'sinks.redis.tls.keyFile');
    const e = failure({ ...tls, EDGEBRIDGE_REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' });
    assert.equal(e.key, 'sinks.redis.tls.caFile');
    assert.match(e.message, /ENOENT/);
  });
});
