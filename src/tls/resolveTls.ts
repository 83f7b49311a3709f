import { ConfigError } from '../errors/ConfigError.ts';
import { readTlsFiles, type TlsFiles, type TlsKeyNaming } from './readTlsFiles.ts';
import { DEFAULT_TLS, isTlsUrl, type TlsConfig } from './TlsConfig.ts';
import { tlsDigests, type TlsDigests } from './renewedTlsFiles.ts';

/**
 * One link's TLS settings as loaded: the configured paths, plus the display label, the files' contents and their
 * digests, all non-enumerable — the key's bytes can never reach print-config, a log line or a JSON dump, and the block still
 * compares and prints as the four configured keys.
 */
export interface ResolvedTls extends TlsConfig {
  /** The config block named in messages: `mqtt.tls`, `sinks.influx.tls`, `sinks.extra[name=cloud].tls`. */
  readonly label: string;
  /** What Node's tls / https clients take, read once at load; undefined for a plain URL. */
  readonly files: TlsFiles | undefined;
  /** SHA-256 of each file read: a reload compares them to see a file renewed under the same path. */
  readonly digests: TlsDigests;
}

/**
 * Checks one TLS block against its URL and reads its files once: TLS settings on a plain URL are a mistake (the
 * client would silently connect without TLS), and the files must be readable and parse (exit 78 naming the key,
 * not a connect error repeated forever). `naming` says how errors name the keys; by default config-file keys.
 */
export function resolveTls(
  url: string,
  urlKey: string,
  tls: TlsConfig,
  label: string,
  naming: TlsKeyNaming = { at: label, howToSet: (key) => `set "${key}" in the config file` },
): ResolvedTls {
  const set = (Object.keys(DEFAULT_TLS) as (keyof TlsConfig)[]).find((k) => tls[k] !== DEFAULT_TLS[k]);
  if (!isTlsUrl(url) && set !== undefined) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? '?';
    throw new ConfigError({
      key: `${naming.at}.${set}`,
      value: tls[set],
      problem: `is set but ${urlKey} is a plain ${scheme}:// URL, so it would be ignored`,
      expected: `a TLS URL (${scheme}s://) in ${urlKey}`,
      fix: `use ${scheme}s:// in ${urlKey}, or unset ${naming.at}.${set}`,
    });
  }
  const files = isTlsUrl(url) ? readTlsFiles(tls, naming) : undefined;
  const paths: TlsConfig = { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, rejectUnauthorized: tls.rejectUnauthorized };
  // defineProperties returns its argument's type; the properties it adds are the ones ResolvedTls declares.
  return Object.defineProperties(paths, {
    label: { value: label },
    files: { value: files },
    digests: { value: tlsDigests(files) },
  }) as ResolvedTls;
}
