/**
 * TLS keys of one client connection (`mqtt.tls`, `sinks.influx.tls`, `sinks.redis.tls`, each extra sink's `tls`).
 * One shape for every link. Files, not inline PEM: certificates are rotated by replacing files, and a key file
 * can sit where only the service may read it (a systemd credential). Nothing here is a secret itself: the key
 * file's path is shown, its contents never are.
 */
import { F } from './formats.ts';
import type { SchemaTree } from './schemaTree.ts';

export function tlsSchema(server: string) {
  return {
    caFile: {
      doc: `PEM file of the CA certificate(s) that ${server}'s certificate must chain to; empty: the system's CAs. Only for a TLS URL.`,
      default: '',
      format: F.string,
    },
    certFile: {
      doc: `PEM client certificate presented to ${server} (client-certificate auth); needs keyFile.`,
      default: '',
      format: F.string,
    },
    keyFile: {
      doc: 'PEM private key (unencrypted) of certFile; may be a systemd credential path. Never logged.',
      default: '',
      format: F.string,
    },
    rejectUnauthorized: {
      doc: `Verify ${server}'s certificate (chain and host name). false accepts any certificate — insecure, logged as a warning on every start.`,
      default: true,
      format: F.boolean,
    },
  } satisfies SchemaTree;
}
