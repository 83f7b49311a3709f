/** OpenSSL verification results as Node reports them in `err.code`: the server's certificate was not accepted. */
const SERVER_CERT =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_EXCEEDED)/;
/** TLS alerts the server sends when it does not accept our client certificate (or its absence). */
const CLIENT_CERT = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE|ACCESS_DENIED)/;

/**
 * Turns a TLS failure into a sentence an operator can act on, naming the setting to check (`at` is the TLS
 * block, e.g. `mqtt.tls`); undefined for errors that are not about TLS. Retrying cannot fix these, but the
 * data is kept and retried anyway: the fix is on a server or in a file, and nothing may be lost meanwhile.
 */
export function describeTlsError(error: unknown, at: string): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (SERVER_CERT.test(code)) {
    return `TLS: server certificate not accepted (${code}: ${message}); check ${at}.caFile and the name/IP the certificate is issued for`;
  }
  if (CLIENT_CERT.test(code)) {
    return `TLS: the server refused the handshake (${code}); check the client certificate ${at}.certFile / ${at}.keyFile`;
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS: handshake failed (${code}: ${message})`;
  return undefined;
}
