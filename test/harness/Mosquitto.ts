import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { resolveBinary, ServerProcess, tcpProbe } from './ServerProcess.ts';
import { serverLifecycle, type ServerHandle } from './serverLifecycle.ts';

/** Makes the listener a TLS listener (mqtts://); all paths are PEM files (see certificates.ts). */
export interface MosquittoTlsListener {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Clients must present a certificate signed by caFile; without one the handshake is refused. */
  requireCertificate?: boolean;
  /** The client certificate's CN is the user name (no password needed). */
  useIdentityAsUsername?: boolean;
}

export interface MosquittoOptions {
  /** `persistence true` in the temp dir (saved on SIGTERM and every second), so persistent sessions survive a restart. */
  persistence?: boolean;
  /** Extra mosquitto.conf lines, appended last. */
  extraConfig?: string[];
  /** Binary (default /usr/sbin/mosquitto). */
  command?: string;
  /** Fixed port (a test that starts the broker after the gateway); default: a free one. */
  port?: number;
  /** TLS on the listener (the handle's url is then mqtts://, or wss:// with websockets). */
  tls?: MosquittoTlsListener;
  /** MQTT over WebSockets on the listener (`protocol websockets`): the handle's url is then ws:// or wss://. */
  websockets?: boolean;
  /** user → password, written with mosquitto_passwd to <dir>/passwd; anonymous clients are then refused. */
  users?: Record<string, string>;
}

export interface MosquittoHandle extends ServerHandle {
  /** mqtt://127.0.0.1:PORT; mqtts:// with a TLS listener; ws:// or wss:// with websockets */
  readonly url: string;
  readonly configFile: string;
}

/**
 * The limits Mosquitto 2.0.11 ships with drop messages (max_queued_messages 1000 per client,
 * max_inflight_messages 20): 0 means "no maximum" for all three options below.
 */
export function mosquittoConfig(port: number, dir: string, opts: MosquittoOptions = {}): string[] {
  const tls = opts.tls;
  const lines = [
    `listener ${port} 127.0.0.1`,
    // Listener options: they must follow their `listener` line.
    ...(opts.websockets ? ['protocol websockets'] : []),
    ...(tls ? [`cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`] : []),
    ...(tls?.requireCertificate ? ['require_certificate true'] : []),
    ...(tls?.useIdentityAsUsername ? ['use_identity_as_username true'] : []),
    ...(opts.users ? ['allow_anonymous false', `password_file ${path.join(dir, 'passwd')}`] : ['allow_anonymous true']),
    'max_queued_messages 0',
    'max_queued_bytes 0',
    'max_inflight_messages 0',
    // Logs go to stdout, which ServerProcess appends to <dir>/mosquitto.log.
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  ];
  // Started as root, Mosquitto switches to user "mosquitto", who cannot write our temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  if (opts.persistence) {
    lines.push('persistence true', `persistence_location ${dir}${path.sep}`, 'persistence_file mosquitto.db', 'autosave_interval 1');
  } else {
    lines.push('persistence false');
  }
  // Mosquitto 2.0.11 exits ("Unable to start any listening sockets") when every listener is a websockets one: a
  // plain listener on a unix socket in the temp dir keeps it up without taking another port.
  if (opts.websockets) lines.push(`listener 0 ${path.join(dir, 'plain.sock')}`);
  lines.push(...(opts.extraConfig ?? []));
  return lines;
}

/** Start a private Mosquitto on a free loopback port, configured from a mosquitto.conf in its temp dir. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  let configFile = '';
  const server = await ServerProcess.launch({
    name: 'mosquitto',
    command: opts.command ?? '/usr/sbin/mosquitto',
    debianPackage: 'mosquitto',
    args: (port, dir) => {
      configFile = path.join(dir, 'mosquitto.conf');
      if (opts.users) writePasswordFile(path.join(dir, 'passwd'), opts.users);
      fs.writeFileSync(configFile, mosquittoConfig(port, dir, opts).join('\n') + '\n');
      return ['-c', configFile];
    },
    ready: tcpProbe(),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
  });
  return {
    get port() {
      return server.port;
    },
    get url() {
      const scheme = opts.websockets ? (opts.tls ? 'wss' : 'ws') : opts.tls ? 'mqtts' : 'mqtt';
      return `${scheme}://127.0.0.1:${server.port}`;
    },
    dir: server.dir,
    get configFile() {
      return configFile;
    },
    get pid() {
      return server.pid;
    },
    ...serverLifecycle(server),
  };
}

/** A Mosquitto password file (hashed entries) made by mosquitto_passwd, from the Debian package mosquitto. */
function writePasswordFile(file: string, users: Record<string, string>): void {
  const tool = resolveBinary('mosquitto_passwd', 'mosquitto');
  fs.writeFileSync(file, '');
  for (const [user, password] of Object.entries(users)) {
    execFileSync(tool, ['-b', file, user, password], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  fs.chmodSync(file, 0o600);
}
