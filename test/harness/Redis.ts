import net from 'node:net';
import { ServerProcess } from './ServerProcess.ts';
import type { ReadyProbe } from './ServerProcess.ts';
import type { TestPki } from './certificates.ts';
import { serverLifecycle, type ServerHandle } from './serverLifecycle.ts';

export interface RedisOptions {
  /** AOF with `appendfsync always`: every acknowledged write survives stop, kill and restart. */
  appendonly?: boolean;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  extraArgs?: string[];
  /** Binary (default /usr/bin/redis-server). */
  command?: string;
}

export interface RedisHandle extends ServerHandle {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  /** SIGTERM: Redis shuts down cleanly (fsyncs the AOF; saves no RDB since `--save ''`). */
  stop(): Promise<void>;
}

/** Ready when PING answers +PONG: a TCP connect alone succeeds while Redis is still loading (-LOADING). */
export function redisPingProbe(host = '127.0.0.1', timeoutMs = 1000, password?: string): ReadyProbe {
  return (port) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      let data = '';
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      // With a password: AUTH first (its +OK line comes before PING's answer).
      socket.once('connect', () => socket.write(password === undefined ? 'PING\r\n' : `AUTH ${password}\r\nPING\r\n`));
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
        if (password === undefined ? data.includes('\r\n') : data.split('\r\n').length > 2) done(data.includes('+PONG'));
      });
      socket.once('error', () => done(false));
    });
}

/**
 * redis-server arguments for a TLS listener on `tlsPort` beside the plain one (which the harness probes), with
 * the server certificate of `pki` (createTestPki). `authClients`: whether clients must present a certificate.
 */
export function redisTlsArgs(pki: TestPki, tlsPort: number, authClients: 'yes' | 'no' | 'optional'): string[] {
  return [
    '--tls-port',
    String(tlsPort),
    '--tls-cert-file',
    pki.server.cert,
    '--tls-key-file',
    pki.server.key,
    '--tls-ca-cert-file',
    pki.caFile,
    '--tls-auth-clients',
    authClients,
  ];
}

/** Start a private redis-server on a free loopback port with its data in a temp dir. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  const server = await ServerProcess.launch({
    name: 'redis',
    command: opts.command ?? '/usr/bin/redis-server',
    debianPackage: 'redis-server',
    args: (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--logfile',
      '',
      '--appendonly',
      opts.appendonly ? 'yes' : 'no',
      ...(opts.appendonly ? ['--appendfsync', 'always'] : []),
      ...(opts.extraArgs ?? []),
    ],
    ready: redisPingProbe(),
  });
  return {
    get port() {
      return server.port;
    },
    get url() {
      return `redis://127.0.0.1:${server.port}`;
    },
    dir: server.dir,
    get pid() {
      return server.pid;
    },
    ...serverLifecycle(server),
  };
}
