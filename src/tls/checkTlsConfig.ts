import { ConfigError } from '../config/ConfigError.ts';
import { readTlsFiles, type TlsKeyNaming } from './readTlsFiles.ts';
import { DEFAULT_TLS, isTlsUrl, type TlsConfig } from './TlsConfig.ts';

/**
 * Load-time check of one TLS block against its URL: TLS settings on a plain URL are a mistake (the client
 * would silently connect without TLS), and the files must be readable and parse.
 */
export function checkTlsConfig(url: string, urlKey: string, tls: TlsConfig, naming: TlsKeyNaming): void {
  if (!isTlsUrl(url)) {
    const set = (Object.keys(DEFAULT_TLS) as (keyof TlsConfig)[]).find((k) => tls[k] !== DEFAULT_TLS[k]);
    if (set !== undefined) {
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? '?';
      throw new ConfigError({
        key: `${naming.at}.${set}`,
        value: tls[set],
        problem: `is set but ${urlKey} is a plain ${scheme}:// URL, so it would be ignored`,
        expected: `a TLS URL (${scheme}s://) in ${urlKey}`,
        fix: `use ${scheme}s:// in ${urlKey}, or unset ${naming.at}.${set}`,
      });
    }
    return;
  }
  readTlsFiles(tls, naming);
}
