import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisSinkConfig } from '../../config/Config.ts';

/**
 * Node TLS options for a rediss:// sink, undefined for redis://. Server certificates are verified (chain and host
 * name) unless `tls.insecure`; the CA file replaces the system CAs when set; certFile/keyFile authenticate the
 * gateway to servers with `tls-auth-clients yes`. Files are read at start (the config loader checked them).
 */
export function redisTlsOptions(
  config: RedisSinkConfig,
  readFile: (path: string) => Buffer = (p) => fs.readFileSync(p),
): ConnectionOptions | undefined {
  if (!config.url.startsWith('rediss://')) return undefined;
  const t = config.tls;
  return {
    ...(t.caFile ? { ca: readFile(t.caFile) } : {}),
    ...(t.certFile ? { cert: readFile(t.certFile) } : {}),
    ...(t.keyFile ? { key: readFile(t.keyFile) } : {}),
    ...(t.insecure ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : { rejectUnauthorized: true }),
  };
}
