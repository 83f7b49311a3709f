/** Returned by `parseJson` for malformed text; `jsonError()` then tells why. A sentinel avoids a result object per message. */
export const BAD_JSON: unique symbol = Symbol('bad json');

let lastError = '';

/** JSON.parse without throwing: the try/catch lives in this tiny function so callers stay optimisable. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    lastError = (e as Error).message;
    return BAD_JSON;
  }
}

/** The message of the last failed `parseJson`. */
export function jsonError(): string {
  return lastError;
}
