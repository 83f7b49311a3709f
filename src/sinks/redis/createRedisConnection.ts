import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisSinkConfig } from '../../config/Config.ts';
import { BATCH_SCRIPT } from './batchScript.ts';
import { ClusterWriter, type ScriptCluster } from './ClusterWriter.ts';
import type { RedisWriter } from './RedisWriter.ts';
import { SingleNodeWriter, type ScriptClient } from './SingleNodeWriter.ts';

export interface RedisConnection {
  readonly client: Redis | Cluster;
  readonly writer: RedisWriter;
  /** Where it connects, for the log (no credentials). */
  readonly target: string;
}

export interface RedisConnectionOptions {
  /** Delay (ms) before reconnect attempt `times`; null = give up (never used: the breaker decides). */
  readonly reconnectDelay: (times: number) => number;
  /** Extra ioredis options (tests); the settings below win. */
  readonly extra?: RedisOptions;
}

/**
 * Builds the ioredis client of the configured mode, not yet connected (`lazyConnect`), and its writer:
 * - standalone: `new Redis(url)`; sentinel: `new Redis({sentinels, name})`, which asks the Sentinels for the
 *   current master and follows failovers; cluster: `new Cluster(nodes)`, which discovers the slots.
 * Every mode: the offline queue is off (a write while disconnected fails at once and the worker's breaker
 * decides, instead of ioredis piling commands up in RAM), no per-command retries (the worker retries the batch),
 * timeouts from `resilience.timeoutMs`, credentials from the url or username/password, TLS for rediss://.
 */
export function createRedisConnection(config: RedisSinkConfig, options: RedisConnectionOptions): RedisConnection {
  const url = new URL(config.url);
  const username = config.username || decodeURIComponent(url.username);
  const password = config.password || decodeURIComponent(url.password);
  // CA, client certificate and key as contents, read and checked once when the config was loaded.
  const tls = config.tls.files;
  const node: RedisOptions = {
    ...options.extra,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.resilience.timeoutMs,
    connectTimeout: config.resilience.timeoutMs,
  };
  const wait = { replicas: config.waitReplicas, timeoutMs: config.waitTimeoutMs };

  if (config.mode === 'cluster') {
    const seeds =
      config.clusterNodes.length > 0
        ? config.clusterNodes
        : [{ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) }];
    const clusterOptions: ClusterOptions = {
      redisOptions: node,
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => options.reconnectDelay(times),
      slotsRefreshTimeout: config.resilience.timeoutMs,
      // TLS certificates name the nodes' addresses as announced by the cluster: do not resolve them.
      ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    };
    const cluster = new Cluster([...seeds], clusterOptions) as ScriptCluster;
    // No numberOfKeys: each call declares its own keys (see groupBySlot).
    cluster.defineCommand('edgebridgeBatchKeyed', { lua: BATCH_SCRIPT });
    return {
      client: cluster,
      writer: new ClusterWriter(cluster, wait),
      target: `cluster ${seeds.map((s) => `${s.host}:${s.port}`).join(',')}`,
    };
  }

  const common: RedisOptions = {
    ...node,
    lazyConnect: true,
    retryStrategy: (times: number) => options.reconnectDelay(times),
  };
  let client: ScriptClient;
  let target: string;
  if (config.mode === 'sentinel') {
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    client = new Redis({
      ...common,
      sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: config.sentinelName,
      ...(config.sentinelUsername !== '' ? { sentinelUsername: config.sentinelUsername } : {}),
      ...(config.sentinelPassword !== '' ? { sentinelPassword: config.sentinelPassword } : {}),
      role: 'master',
      db,
      // rediss:// in sentinel mode: the Sentinels speak TLS too, with the same CA and client certificate.
      ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      // Subscribes to +switch-master so a promotion is followed at once, not only after the old master errors.
      failoverDetector: true,
      // A master demoted under us answers READONLY: reconnect, which asks the Sentinels again.
      reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
      sentinelRetryStrategy: (times: number) => options.reconnectDelay(times),
    }) as ScriptClient;
    target = `sentinel master "${config.sentinelName}" via ${config.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  } else {
    client = new Redis(config.url, common) as ScriptClient;
    target = `${url.protocol}//${url.host}`;
  }
  client.defineCommand('edgebridgeBatch', { numberOfKeys: 0, lua: BATCH_SCRIPT });
  return { client, writer: new SingleNodeWriter(client, wait), target };
}
