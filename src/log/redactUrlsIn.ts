/** `scheme://userinfo@` anywhere inside a text (an error message, a log field). */
// Up to the last '@' before a '/', a space or a quote: a raw '@' in a password (`mqtt://u:p@ss@host` is a valid URL)
// is masked whole.
const USERINFO_IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/)([^/\s"']+)@/gi;

/**
 * Masks credentials of every URL inside a text: `mqtt://user:secret@host` → `mqtt://user:[redacted]@host`, and
 * Redis's bare-password form `redis://secret@host` → `redis://[redacted]@host`. For a whole config value use
 * `redactUrl` from redactConfig.ts, which also masks secret query parameters.
 */
export function redactUrlsInText(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(USERINFO_IN_TEXT, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:[redacted]@`;
    if (/^rediss?:\/\/$/i.test(scheme)) return `${scheme}[redacted]@`;
    return `${scheme}${userinfo}@`;
  });
}

/** Masks URL credentials in the string values (and error messages) of one log object, one level deep. */
export function redactUrlsIn(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    if (typeof value === 'string' && value.includes('://')) {
      out ??= { ...obj };
      out[key] = redactUrlsInText(value);
    } else if (value instanceof Error && value.message.includes('://')) {
      out ??= { ...obj };
      out[key] = { type: value.name, message: redactUrlsInText(value.message) };
    }
  }
  return out ?? obj;
}
