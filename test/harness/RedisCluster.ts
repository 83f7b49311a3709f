import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { resolveBinary } from './ServerProcess.ts';
import { startRedis, type RedisHandle } from './Redis.ts';
import { waitFor } from './waitFor.ts';

const run = promisify(execFile);

export interface RedisClusterHandle {
  readonly nodes: readonly RedisHandle[];
  /** `127.0.0.1:PORT` of every master. */
  readonly addresses: readonly string[];
  destroy(): Promise<void>;
}

/**
 * A real Redis Cluster of `masters` redis-server processes (no replicas) on free loopback ports, slots assigned
 * by `redis-cli --cluster create`, returned once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const nodes = await Promise.all(
    Array.from({ length: masters }, () =>
      startRedis({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }),
    ),
  );
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
  };
  try {
    const cli = resolveBinary('redis-cli', 'redis-tools');
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const n of nodes) {
      const c = new Redis(n.url, { lazyConnect: true });
      try {
        await c.connect();
        await waitFor(async () => String(await c.cluster('INFO')).includes('cluster_state:ok'), {
          timeoutMs: 20_000,
          intervalMs: 100,
          message: `cluster node ${n.port} never reported cluster_state:ok`,
        });
      } finally {
        c.disconnect();
      }
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { nodes, addresses, destroy };
}
