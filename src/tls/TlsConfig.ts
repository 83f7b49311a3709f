/** TLS settings of one client connection, as configured (paths, not contents). */
export interface TlsConfig {
  /** PEM CA bundle the server's certificate must chain to; '' = Node's built-in CAs. */
  readonly caFile: string;
  /** PEM client certificate; '' = none. Set together with keyFile. */
  readonly certFile: string;
  readonly keyFile: string;
  /** false = accept any server certificate (insecure; warned about on every start). */
  readonly rejectUnauthorized: boolean;
}

export const DEFAULT_TLS: TlsConfig = { caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true };

/** mqtts://, wss://, https://, rediss:// — the URL schemes that use TLS. */
export function isTlsUrl(url: string): boolean {
  return /^(mqtts|wss|https|rediss):/i.test(url);
}
