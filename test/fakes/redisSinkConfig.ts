import type { RedisSinkConfig } from '../../src/config/Config.ts';

/** A Redis sink config with the schema's defaults and fast resilience settings, for tests. */
export function redisSinkConfig(url: string, overrides: Partial<RedisSinkConfig> = {}): RedisSinkConfig {
  return {
    name: 'redis',
    type: 'redis',
    url,
    username: '',
    password: '',
    keyPrefix: 'eb:',
    deviceTag: 'device',
    latest: true,
    streams: true,
    streamMaxLen: 100_000,
    mode: 'standalone',
    sentinels: [],
    sentinelName: 'mymaster',
    sentinelUsername: '',
    sentinelPassword: '',
    clusterNodes: [],
    tls: { caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true },
    waitReplicas: 0,
    waitTimeoutMs: 1000,
    batch: { maxPoints: 5000, maxBytes: 1 << 20, flushIntervalMs: 1000 },
    resilience: { timeoutMs: 1000, retryInitialMs: 100, retryMaxMs: 1000, breakerThreshold: 3, breakerHalfOpenAfterMs: 1000 },
    ...overrides,
  };
}
