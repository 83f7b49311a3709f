/**
 * Secret-free copies of configuration for logs, `check-config` / `print-config` output and config errors. Beside
 * redactUrlsIn (the same masking for free text in log lines): one home for what must never be shown.
 */

export const REDACTED = '[redacted]';

/** Keys whose string values are secrets wherever they appear (Config and raw sink objects alike). */
const SECRET_KEY = /(password|token|secret|passphrase|apikey|api_key)$/i;

/** Query parameters that commonly carry credentials. */
const SECRET_PARAM = /^(password|passwd|pass|pwd|token|access_token|auth|key|secret|apikey|api_key)$/i;

// scheme://userinfo@ — greedy up to the last '@' of the whole value, so a password holding an unescaped '@',
// '/' or space (an invalid URL, shown in a config error) is covered too; a path with '@' is over-redacted.
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is;

/**
 * `mqtt://user:pass@host` → `mqtt://user:[redacted]@host`. Redis URLs put a bare password in the
 * user part (`redis://pass@host`), so for redis/rediss a lone user part is redacted too. Secret
 * query parameters (`?token=…`) are redacted. Anything that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  let out = url.replace(USERINFO, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
    if (/^rediss?:\/\/$/i.test(scheme)) return `${scheme}${REDACTED}@`;
    return `${scheme}${userinfo}@`;
  });
  out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, name: string) =>
    SECRET_PARAM.test(name) ? `${sep}${name}=${REDACTED}` : all,
  );
  return out;
}

function looksLikeUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}

/** Deep copy of any value with secrets replaced; used for configs and raw config fragments. */
export function redactValue(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && value !== '') return REDACTED;
    return looksLikeUrl(value) ? redactUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}

/**
 * Deep copy with every secret (mqtt.password, sink tokens and passwords) as '[redacted]' and
 * credentials inside URLs redacted. Empty secrets stay '' — "not set" is useful and not secret.
 */
export function redactConfig(config: object): unknown {
  return redactValue(config);
}
