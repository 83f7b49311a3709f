import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ServerProcess } from './ServerProcess.ts';
import type { TestPki } from './certificates.ts';
import { freePort } from './freePort.ts';
import { redisPingProbe, redisTlsArgs, startRedis, type RedisHandle } from './Redis.ts';
import { waitFor } from './waitFor.ts';

export interface RedisSentinelOptions {
  /** Replicas of the master (default 2: after a failover the new master still has one, so WAIT 1 can succeed). */
  replicas?: number;
  /** Sentinels (default 3, quorum 2). */
  sentinels?: number;
  masterName?: string;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** `requirepass` of every Sentinel (they also use it with each other); the servers stay open. */
  sentinelPassword?: string;
  /**
   * TLS listeners beside the plain ones (which the harness itself uses), with the server certificate of `pki`: on
   * the master and replicas, and on every Sentinel, which monitors the master's TLS port and reaches it over TLS.
   * The handle's `sentinelTlsAddresses` and `masterPort()` then name TLS ports.
   */
  tls?: TestPki;
}

export interface RedisSentinelHandle {
  readonly masterName: string;
  /** The master the setup started with (index 0) and its replicas. */
  readonly servers: readonly RedisHandle[];
  readonly sentinels: readonly ServerProcess[];
  /** `127.0.0.1:PORT` of every Sentinel. */
  readonly sentinelAddresses: readonly string[];
  /** With `tls`: `127.0.0.1:TLSPORT` of every Sentinel (else empty). */
  readonly sentinelTlsAddresses: readonly string[];
  /** The master's port as the first Sentinel that answers reports it now. */
  masterPort(): Promise<number>;
  /** The server handle of the current master. */
  master(): Promise<RedisHandle>;
  destroy(): Promise<void>;
}

/**
 * A real Sentinel setup on loopback: one master, `replicas` replicas, `sentinels` redis-server processes in
 * sentinel mode (`redis-server sentinel.conf --sentinel`; Debian's redis-sentinel package is the same binary).
 * Returned once every replica is online and every Sentinel knows the replicas and the other Sentinels, so that
 * a failover can happen from then on. Short down-after / failover timeouts make a failover take seconds.
 */
export async function startRedisSentinel(opts: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  const masterName = opts.masterName ?? 'mymaster';
  const replicaCount = opts.replicas ?? 2;
  const sentinelCount = opts.sentinels ?? 3;
  const quorum = Math.floor(sentinelCount / 2) + 1;
  const servers: RedisHandle[] = [];
  /** With `tls`: the TLS port of servers[i], and of sentinels[i]. */
  const tlsPorts: number[] = [];
  let sentinelTlsPorts: number[] = [];
  const sentinels: ServerProcess[] = [];
  const destroy = async () => {
    await Promise.all([...sentinels.map((s) => s.destroy()), ...servers.map((s) => s.destroy())]);
  };
  try {
    const pki = opts.tls;
    const tlsArgs = async (): Promise<string[]> => {
      if (pki === undefined) return [];
      const port = await freePort();
      tlsPorts.push(port);
      return [...redisTlsArgs(pki, port, 'no'), '--tls-replication', 'yes'];
    };
    const master = await startRedis({ extraArgs: await tlsArgs() });
    servers.push(master);
    const masterPortSeen = pki === undefined ? master.port : tlsPorts[0]!;
    const replicaArgs: string[][] = [];
    for (let i = 0; i < replicaCount; i++) replicaArgs.push(await tlsArgs());
    const replicas = await Promise.all(
      replicaArgs.map((extra) =>
        startRedis({
          extraArgs: [
            ...extra,
            '--replicaof',
            '127.0.0.1',
            String(masterPortSeen),
            '--repl-diskless-sync',
            'yes',
            '--repl-diskless-sync-delay',
            '0',
          ],
        }),
      ),
    );
    servers.push(...replicas);
    sentinelTlsPorts = pki === undefined ? [] : await Promise.all(Array.from({ length: sentinelCount }, () => freePort()));
    const admin = new Redis(master.url);
    try {
      await waitFor(async () => (String(await admin.info('replication')).match(/state=online/g) ?? []).length === replicaCount, {
        timeoutMs: 20_000,
        intervalMs: 100,
        message: 'replicas never came online',
      });
    } finally {
      admin.disconnect();
    }
    sentinels.push(
      ...(await Promise.all(
        Array.from({ length: sentinelCount }, (_, n) =>
          ServerProcess.launch({
            name: 'redis-sentinel',
            command: '/usr/bin/redis-server',
            debianPackage: 'redis-server',
            args: (port, dir) => {
              const conf = path.join(dir, 'sentinel.conf');
              fs.writeFileSync(
                conf,
                [
                  `port ${port}`,
                  'bind 127.0.0.1',
                  'daemonize no',
                  `dir ${dir}`,
                  'logfile ""',
                  ...(pki === undefined
                    ? []
                    : [
                        `tls-port ${sentinelTlsPorts[n]}`,
                        `tls-cert-file ${pki.server.cert}`,
                        `tls-key-file ${pki.server.key}`,
                        `tls-ca-cert-file ${pki.caFile}`,
                        'tls-auth-clients no',
                        'tls-replication yes',
                      ]),
                  `sentinel monitor ${masterName} 127.0.0.1 ${masterPortSeen} ${quorum}`,
                  `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
                  `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 5000}`,
                  `sentinel parallel-syncs ${masterName} ${replicaCount}`,
                  ...(opts.sentinelPassword !== undefined ? [`requirepass ${opts.sentinelPassword}`] : []),
                  '',
                ].join('\n'),
              );
              return [conf, '--sentinel'];
            },
            ready: redisPingProbe('127.0.0.1', 1000, opts.sentinelPassword),
          }),
        ),
      )),
    );
    for (const s of sentinels) {
      const c = new Redis({
        host: '127.0.0.1',
        port: s.port,
        ...(opts.sentinelPassword !== undefined ? { password: opts.sentinelPassword } : {}),
      });
      try {
        await waitFor(
          async () => {
            const flat = (await c.call('SENTINEL', 'MASTER', masterName)) as string[];
            const info = Object.fromEntries(flat.flatMap((_, i) => (i % 2 === 0 ? [[flat[i], flat[i + 1]]] : [])));
            return Number(info['num-slaves']) === replicaCount && Number(info['num-other-sentinels']) === sentinelCount - 1;
          },
          { timeoutMs: 30_000, intervalMs: 200, message: `sentinel ${s.port} never saw all replicas and sentinels` },
        );
      } finally {
        c.disconnect();
      }
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  const masterPort = async (): Promise<number> => {
    for (const s of sentinels) {
      if (!s.running) continue;
      const c = new Redis({
        host: '127.0.0.1',
        port: s.port,
        lazyConnect: true,
        ...(opts.sentinelPassword !== undefined ? { password: opts.sentinelPassword } : {}),
      });
      try {
        await c.connect();
        const [, port] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string];
        return Number(port);
      } catch {
        // next sentinel
      } finally {
        c.disconnect();
      }
    }
    throw new Error('no sentinel answered');
  };
  return {
    masterName,
    servers,
    sentinels,
    sentinelAddresses: sentinels.map((s) => `127.0.0.1:${s.port}`),
    sentinelTlsAddresses: sentinelTlsPorts.map((p) => `127.0.0.1:${p}`),
    masterPort,
    master: async () => {
      const port = await masterPort();
      // With TLS the Sentinels name the TLS ports, which were handed out in server order.
      const found = opts.tls === undefined ? servers.find((s) => s.port === port) : servers[tlsPorts.indexOf(port)];
      if (found === undefined) throw new Error(`master port ${port} is none of ours`);
      return found;
    },
    destroy,
  };
}
