/**
 * Thrown by a config format's parser and by the loader's cross-key checks. Carries the structured facts the loader
 * needs to build a ConfigError (key, value, expectation) — convict itself would flatten them into one string.
 * Turned into the exit-78 ConfigError in one place: config/toConfigError.ts. Lives beside ConfigError so that
 * route/ (which parses `routes` for the config) throws it without importing config/.
 */
export class FormatError extends Error {
  /** Path below the key being parsed: '' for the key itself, '[2].format', '.url', …; the full key once thrown out. */
  readonly path: string;
  /** Noun phrase, reads after "expected" / "must be": `one of json, number, line`. */
  readonly expected: string;
  readonly value: unknown;
  /** The value is a secret and must never be shown. */
  readonly sensitive: boolean;
  /** The key is not in the schema; `value` is then never shown (it might be a misspelt secret). */
  readonly unknownKey: boolean;
  /** How to fix it, when the default (`set <ENV> or "<key>" in the config file`) would not say it right. */
  readonly fix: string | undefined;

  constructor(init: { path?: string; expected: string; value: unknown; sensitive?: boolean; unknownKey?: boolean; fix?: string }) {
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
    this.fix = init.fix;
  }

  /** The same failure seen from one level further up (`[2]` + `.format`); `sensitive` if the outer key is a secret. */
  under(prefix: string, sensitive = false): FormatError {
    return new FormatError({
      path: joinPath(prefix, this.path),
      expected: this.expected,
      value: this.value,
      sensitive: this.sensitive || sensitive,
      unknownKey: this.unknownKey,
      ...(this.fix === undefined ? {} : { fix: this.fix }),
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
