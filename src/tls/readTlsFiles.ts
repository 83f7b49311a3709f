import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors/ConfigError.ts';
import type { TlsConfig } from './TlsConfig.ts';

/** What Node's tls / https clients take: file contents, never paths. */
export interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
}

export interface TlsKeyNaming {
  /** Config path of the TLS block, e.g. `mqtt.tls`, `sinks.extra[1].tls`. */
  readonly at: string;
  /** How to set one of its keys, e.g. `set EDGEBRIDGE_MQTT_TLS_CA_FILE or "mqtt.tls.caFile" in the config file`. */
  readonly howToSet: (key: string) => string;
}

/**
 * Reads and parses the CA, certificate and key files, so that a missing, unreadable or malformed file is a
 * config error (exit 78, naming the key) at start-up — not a connect error repeated forever by the reconnect
 * loop. Runs once, at config load (check-config sees it too; see resolveTls). OpenSSL's messages name the
 * problem, never the file's contents.
 */
export function readTlsFiles(tls: TlsConfig, naming: TlsKeyNaming): TlsFiles {
  const { at, howToSet } = naming;
  if ((tls.certFile === '') !== (tls.keyFile === '')) {
    const missing = tls.certFile === '' ? 'certFile' : 'keyFile';
    const other = missing === 'certFile' ? 'keyFile' : 'certFile';
    throw new ConfigError({
      key: `${at}.${missing}`,
      value: '',
      expected: `a PEM file, since ${at}.${other} is set (a client certificate needs both)`,
      fix: `${howToSet(`${at}.${missing}`)}, or unset ${at}.${other}`,
    });
  }
  const read = (name: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const path = tls[name];
    if (path === '') return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError({
        key: `${at}.${name}`,
        value: path,
        problem: `names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${path})`,
        expected: 'a readable PEM file',
        fix: `fix the path or the file's permissions, or ${howToSet(`${at}.${name}`)}`,
      });
    }
  };
  const files = { ca: read('caFile'), cert: read('certFile'), key: read('keyFile') };
  const unusable = (name: 'caFile' | 'certFile' | 'keyFile', why: string, what: string): ConfigError =>
    new ConfigError({
      key: `${at}.${name}`,
      value: tls[name],
      problem: `is not usable (${why}): ${tls[name]}`,
      expected: what,
      fix: `replace the file, or ${howToSet(`${at}.${name}`)}`,
    });
  const parse = (name: 'caFile' | 'certFile' | 'keyFile', options: SecureContextOptions, what: string): void => {
    // Node silently ignores a CA file without a certificate in it (and would then trust nothing but the defaults).
    const text = files[name === 'caFile' ? 'ca' : name === 'certFile' ? 'cert' : 'key']!.toString('latin1');
    if (name !== 'keyFile' && !text.includes('-----BEGIN CERTIFICATE-----')) throw unusable(name, 'no PEM certificate in it', what);
    if (name === 'keyFile' && text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
      throw unusable(name, 'the key is encrypted; a passphrase is not supported', what);
    }
    try {
      createSecureContext(options);
    } catch (err) {
      throw unusable(name, (err as Error).message, what);
    }
  };
  if (files.ca) parse('caFile', { ca: files.ca }, 'PEM CA certificate(s)');
  if (files.cert) parse('certFile', { cert: files.cert }, 'a PEM certificate');
  if (files.cert && files.key) parse('keyFile', { cert: files.cert, key: files.key }, `the unencrypted PEM private key of ${at}.certFile`);
  return {
    ...(files.ca ? { ca: files.ca } : {}),
    ...(files.cert ? { cert: files.cert } : {}),
    ...(files.key ? { key: files.key } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
