import type { RedisSinkConfig } from '../../src/config/Config.ts';
import { resolveTls } from '../../src/tls/resolveTls.ts';
import { DEFAULT_TLS, type TlsConfig } from '../../src/tls/TlsConfig.ts';

/** Overrides of the fake; `tls` as configured (paths), read here the way the loader reads it. */
export type RedisSinkOverrides = Partial<Omit<RedisSinkConfig, 'tls'>> & { readonly tls?: TlsConfig };

/** A Redis sink config with the schema's defaults and fast resilience settings, for tests. */
export function redisSinkConfig(url: string, overrides: RedisSinkOverrides = {}): RedisSinkConfig {
  const { tls = DEFAULT_TLS, ...rest } = overrides;
  const name = rest.name ?? 'redis';
  return {
    name,
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
    waitReplicas: 0,
    waitTimeoutMs: 1000,
    batch: { maxPoints: 5000, maxBytes: 1 << 20, flushIntervalMs: 1000 },
    resilience: { timeoutMs: 1000, retryInitialMs: 100, retryMaxMs: 1000, breakerThreshold: 3, breakerHalfOpenAfterMs: 1000 },
    ...rest,
    tls: resolveTls(url, 'url', tls, name === 'redis' ? 'sinks.redis.tls' : `sinks.extra[name=${name}].tls`),
  };
}
