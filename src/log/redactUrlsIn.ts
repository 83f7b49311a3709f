/** `scheme://user:secret@host` → `scheme://user:[redacted]@host`, anywhere inside a string. */
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^@/\s]+@/gi;

export function redactUrl(text: string): string {
  return text.replace(CREDENTIALS_IN_URL, '$1[redacted]@');
}

/** Masks URL credentials in the string values (and error messages) of one log object, one level deep. */
export function redactUrlsIn(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    if (typeof value === 'string' && value.includes('://')) {
      out ??= { ...obj };
      out[key] = redactUrl(value);
    } else if (value instanceof Error && value.message.includes('://')) {
      out ??= { ...obj };
      out[key] = { type: value.name, message: redactUrl(value.message) };
    }
  }
  return out ?? obj;
}
