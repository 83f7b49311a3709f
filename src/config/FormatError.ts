/**
 * Thrown by a config format's validator. Carries the structured facts the loader needs to build a
 * ConfigError (key, value, expectation) — convict itself would flatten them into one string.
 */
export class FormatError extends Error {
  /** Path below the key being validated: '' for the key itself, '[2].format', '.url', … */
  readonly path: string;
  /** Noun phrase, reads after "expected" / "must be": `one of json, number, line`. */
  readonly expected: string;
  readonly value: unknown;
  /** The value is a secret and must never be shown. */
  readonly sensitive: boolean;
  /** The key is not in the schema; `value` is then never shown (it might be a misspelt secret). */
  readonly unknownKey: boolean;

  constructor(init: {
    path?: string;
    expected: string;
    value: unknown;
    sensitive?: boolean;
    unknownKey?: boolean;
  }) {
    const path = init.path ?? '';
    const shown = init.sensitive || init.unknownKey ? '[redacted]' : JSON.stringify(init.value);
    super(
      init.unknownKey
        ? `${path}: unknown key — expected ${init.expected}`
        : `${path ? `${path}: ` : ''}must be ${init.expected}; got ${shown}`,
    );
    this.name = 'FormatError';
    this.path = path;
    this.expected = init.expected;
    this.value = init.value;
    this.sensitive = init.sensitive ?? false;
    this.unknownKey = init.unknownKey ?? false;
  }

  /** The same failure seen from one level further up (`[2]` + `.format`). */
  under(prefix: string): FormatError {
    return new FormatError({
      path: joinPath(prefix, this.path),
      expected: this.expected,
      value: this.value,
      sensitive: this.sensitive,
      unknownKey: this.unknownKey,
    });
  }
}

/** `mqtt` + `url` → `mqtt.url`; `routes` + `[2].format` → `routes[2].format`. */
export function joinPath(prefix: string, path: string): string {
  if (!prefix) return path.startsWith('.') ? path.slice(1) : path;
  if (!path) return prefix;
  if (path.startsWith('[') || path.startsWith('.')) return prefix + path;
  return `${prefix}.${path}`;
}
