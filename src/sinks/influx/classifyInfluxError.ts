import { HttpError, RequestTimedOutError } from './influxClient.ts';
import { SinkError } from '../SinkError.ts';
import { describeTlsError } from '../../tls/describeTlsError.ts';

/**
 * Maps a failed InfluxDB write to keep / reject, as Telegraf's influxdb_v2 output does:
 * - 400, 422 and other 4xx: the data is bad (parse error, type conflict, too old for the retention): reject, never retry;
 * - 401, 403: wrong token or permissions: keep the data, the breaker opens, readiness says so;
 * - 404: bucket or org missing: keep (an operator creates it, then the backlog lands);
 * - 413: too large: the sink splits the batch;
 * - 429, 5xx, timeouts, refused connections: retry, honouring Retry-After.
 */
export function classifyInfluxError(error: unknown, now: number = Date.now(), tlsAt = 'tls'): SinkError {
  if (error instanceof SinkError) return error;
  if (error instanceof HttpError) {
    const status = error.statusCode;
    const detail = `InfluxDB answered ${status}: ${truncate(error.body ?? error.message)}`;
    const retryAfterMs = parseRetryAfter(error.headers?.['retry-after'], now);
    if (status === 413) return new SinkError(detail, { kind: 'too_large', retryable: false, status });
    if (status === 401 || status === 403) return new SinkError(detail, { kind: 'auth', retryable: true, status });
    if (status === 404) return new SinkError(detail, { kind: 'auth', retryable: true, status });
    if (status === 429) return new SinkError(detail, { kind: 'throttled', retryable: true, status, retryAfterMs });
    if (status >= 500) return new SinkError(detail, { kind: 'unavailable', retryable: true, status, retryAfterMs });
    if (status >= 400) return new SinkError(detail, { kind: 'data', retryable: false, status });
    return new SinkError(detail, { kind: 'unavailable', retryable: true, status });
  }
  if (error instanceof RequestTimedOutError || (error instanceof Error && error.name === 'TimeoutError')) {
    return new SinkError('InfluxDB write timed out', { kind: 'timeout', retryable: true, cause: error });
  }
  // A certificate problem is a transport failure: the batch stays in the spool and is retried.
  const tls = describeTlsError(error, tlsAt);
  if (tls !== undefined) return new SinkError(`InfluxDB unreachable: ${tls}`, { kind: 'unavailable', retryable: true, cause: error });
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  return new SinkError(`InfluxDB unreachable: ${code ?? message}`, { kind: 'unavailable', retryable: true, cause: error });
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === '') return 0;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
