import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveBinary } from './ServerProcess.ts';

export interface CertificateFiles {
  /** PEM certificate, signed by the PKI's CA. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  /** The CA that signed server and client. */
  readonly caFile: string;
  /** Another, unrelated CA: trusting it instead of caFile must fail verification. */
  readonly otherCaFile: string;
  /** Server certificate for 127.0.0.1 and localhost (subjectAltName IP:127.0.0.1, DNS:localhost). */
  readonly server: CertificateFiles;
  /** Client certificate (extendedKeyUsage clientAuth) whose CN is `clientName`. */
  readonly client: CertificateFiles;
  readonly clientName: string;
  /** Remove the directory. */
  destroy(): void;
}

export interface TestPkiOptions {
  /** CN of the client certificate (Mosquitto's use_identity_as_username takes it as the user name). */
  readonly clientName?: string;
}

/**
 * A throw-away PKI made with `openssl` (Debian package openssl): a CA, a server certificate for 127.0.0.1 /
 * localhost and a client certificate signed by it, and a second CA that signed nothing we use. EC P-256 keys:
 * generating them takes milliseconds. Valid for two days.
 */
export function createTestPki(options: TestPkiOptions = {}): TestPki {
  const openssl = resolveBinary('openssl', 'openssl');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-pki-'));
  const clientName = options.clientName ?? 'edgebridge-client';
  const file = (name: string): string => path.join(dir, name);
  const run = (...args: string[]): void => {
    execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  const makeCa = (name: string, cn: string): void =>
    run(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const makeLeaf = (name: string, cn: string, extensions: string[]): CertificateFiles => {
    const ext = file(`${name}.ext`);
    fs.writeFileSync(ext, `${extensions.join('\n')}\n`);
    run('req', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`);
    run(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      ext,
    );
    return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
  };

  makeCa('ca', 'edgebridge test CA');
  makeCa('other-ca', 'some other CA');
  const server = makeLeaf('server', 'localhost', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage=serverAuth',
    'keyUsage=critical,digitalSignature',
  ]);
  const client = makeLeaf('client', clientName, ['extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature']);
  // Servers started as another user (Mosquitto drops to "mosquitto" unless told `user root`) must read the keys.
  for (const name of fs.readdirSync(dir)) fs.chmodSync(file(name), 0o644);
  fs.chmodSync(dir, 0o755);
  return {
    dir,
    caFile: file('ca.crt'),
    otherCaFile: file('other-ca.crt'),
    server,
    client,
    clientName,
    destroy: () => {
      if (process.env['EDGEBRIDGE_KEEP_TMP'] !== '1') fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
