import { describeTlsError } from '../../tls/describeTlsError.ts';
import { SinkError } from '../SinkError.ts';

/** Server replies that say "not now" rather than "never": the batch is kept and retried. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;
const AUTH_REPLY = /^(NOAUTH|WRONGPASS|NOPERM)\b/;

/** A server reply refusing the credentials or the user's permissions. */
export function isAuthReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && AUTH_REPLY.test(error.message);
}

/**
 * Maps an ioredis failure to keep / reject. Connection loss, timeouts and transient server states are retried;
 * auth errors are retried too (the data is fine, the config is not: the breaker opens and readiness says so);
 * any other error reply (a key of the wrong type, a script error) is a data error: rejected, counted.
 * `connectionError` is the last error of the connection itself: a write refused because the client is not
 * connected ("Stream isn't writeable…") is reported with the reason it is not connected — above all a refused
 * login, which otherwise would read as a mere outage — or a failed TLS handshake, named like MQTT's and InfluxDB's
 * with the setting to check (`tlsAt` is the sink's TLS block, e.g. `sinks.redis.tls`).
 */
export function classifyRedisError(error: unknown, connectionError?: Error, tlsAt = 'tls'): SinkError {
  if (error instanceof SinkError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && AUTH_REPLY.test(message)) {
    return new SinkError(`Redis refused: ${message}`, { kind: 'auth', retryable: true, cause: error });
  }
  if (isReply && !TRANSIENT_REPLY.test(message) && !message.includes('NOSCRIPT')) {
    return new SinkError(`Redis rejected the batch: ${message}`, { kind: 'data', retryable: false, cause: error });
  }
  if (!isReply && isAuthReply(connectionError)) {
    return new SinkError(
      `Redis refused the credentials: ${connectionError!.message} (check the sink's username/password and the server's ACL)`,
      {
        kind: 'auth',
        retryable: true,
        cause: error,
      },
    );
  }
  // Certificate problems are fixed on a server or in a file, never by dropping data: kept and retried.
  const tls = isReply ? undefined : (describeTlsError(error, tlsAt) ?? describeTlsError(connectionError, tlsAt));
  if (tls !== undefined) return new SinkError(`Redis unavailable: ${tls}`, { kind: 'unavailable', retryable: true, cause: error });
  if (/timed out/i.test(message)) {
    return new SinkError('Redis command timed out', { kind: 'timeout', retryable: true, cause: error });
  }
  const why = !isReply && connectionError !== undefined && connectionError.message !== message ? ` (${connectionError.message})` : '';
  return new SinkError(`Redis unavailable: ${message}${why}`, { kind: 'unavailable', retryable: true, cause: error });
}
