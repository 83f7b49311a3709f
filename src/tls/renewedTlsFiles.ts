import { createHash } from 'node:crypto';
import type { TlsFiles } from './readTlsFiles.ts';

/** The TLS block's file keys, as the config names them. */
export type TlsFileKey = 'caFile' | 'certFile' | 'keyFile';

/** SHA-256 (hex) of each file's contents as read at load; a key without a file is absent. */
export type TlsDigests = { readonly [K in TlsFileKey]?: string };

/** What the digests of a TLS block compare: the contents the clients were given, never the key's bytes kept apart. */
export function tlsDigests(files: TlsFiles | undefined): TlsDigests {
  if (files === undefined) return {};
  const sha = (b: Buffer | undefined): string | undefined => (b === undefined ? undefined : createHash('sha256').update(b).digest('hex'));
  const entries = [
    ['caFile', sha(files.ca)],
    ['certFile', sha(files.cert)],
    ['keyFile', sha(files.key)],
  ] as const;
  return Object.fromEntries(entries.filter(([, d]) => d !== undefined));
}

/**
 * The files whose contents differ between two loads of the same TLS block (same paths): a certificate, key or CA
 * bundle renewed in place, which only a comparison of what was read can see. Empty when nothing was renewed.
 */
export function renewedTlsFiles(old: { readonly digests: TlsDigests }, next: { readonly digests: TlsDigests }): TlsFileKey[] {
  return (['caFile', 'certFile', 'keyFile'] as const).filter((k) => old.digests[k] !== next.digests[k]);
}
