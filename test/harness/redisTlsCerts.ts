import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveBinary } from './ServerProcess.ts';

export interface RedisTlsCerts {
  readonly dir: string;
  /** The CA that signed the server and client certificates. */
  readonly caFile: string;
  /** Server certificate for 127.0.0.1 / localhost, and its key. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate (CN edgebridge) for `tls-auth-clients yes`, and its key. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Another CA, which signed nothing here: trusting it must fail verification. */
  readonly otherCaFile: string;
}

/**
 * A throw-away PKI for Redis TLS tests, made with the openssl CLI (EC P-256: quick to generate). Files live in a
 * temp dir removed when the process exits. Server certificates name 127.0.0.1 and localhost as subjectAltName,
 * so host-name verification passes on loopback.
 */
export function makeRedisTlsCerts(): RedisTlsCerts {
  const openssl = resolveBinary('openssl', 'openssl');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-redis-tls-'));
  process.once('exit', () => {
    if (process.env['EDGEBRIDGE_KEEP_TMP'] !== '1') fs.rmSync(dir, { recursive: true, force: true });
  });
  const f = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string) => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(name));
  const ca = (name: string, cn: string) => {
    key(`${name}.key`);
    run('req', '-x509', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '2', '-out', f(`${name}.crt`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = (name: string, cn: string, ext: string) => {
    key(`${name}.key`);
    run('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
    fs.writeFileSync(f(`${name}.ext`), ext);
    run('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  };
  ca('ca', 'edgebridge test CA');
  ca('other-ca', 'some other CA');
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'edgebridge', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    otherCaFile: f('other-ca.crt'),
  };
}

/** redis-server arguments for a TLS listener on `tlsPort` beside the plain one (which the harness probes). */
export function redisTlsArgs(certs: RedisTlsCerts, tlsPort: number, authClients: 'yes' | 'no' | 'optional'): string[] {
  return [
    '--tls-port', String(tlsPort),
    '--tls-cert-file', certs.serverCert,
    '--tls-key-file', certs.serverKey,
    '--tls-ca-cert-file', certs.caFile,
    '--tls-auth-clients', authClients,
  ];
}
