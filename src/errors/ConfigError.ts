/**
 * Bad configuration: what key, what it was, what was expected and how to fix it — enough for an
 * operator to fix it from the one log line, without leaking secrets (values arrive redacted).
 */

/** sysexits.h EX_CONFIG: systemd and supervisors can tell "fix the config" from a crash. */
export const CONFIG_EXIT_CODE = 78;

export interface ConfigErrorInit {
  /** Config key (`mqtt.url`, `routes[2].format`) or, for file problems, the file's role. */
  readonly key: string;
  /** The offending value, already redacted if secret; undefined = not shown. */
  readonly value?: unknown;
  readonly expected: string;
  /** How to fix it, e.g. `set EDGEBRIDGE_MQTT_URL or "mqtt.url" in the config file`. */
  readonly fix: string;
  /** Replaces `got <value>`, e.g. `unknown key`, `cannot be read (ENOENT)`. */
  readonly problem?: string;
  /** Replaces `config key "<key>"` at the start, e.g. `config file "/etc/x.json"`. */
  readonly subject?: string;
  readonly cause?: unknown;
}

const MAX_SHOWN = 160;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

export class ConfigError extends Error {
  readonly key: string;
  readonly value: unknown;
  readonly expected: string;
  readonly fix: string;

  constructor(init: ConfigErrorInit) {
    const subject = init.subject ?? `config key "${init.key}"`;
    const problem = init.problem ?? `got ${show(init.value)}`;
    super(`${subject}: ${problem} — expected ${init.expected} (${init.fix})`, { cause: init.cause });
    this.name = 'ConfigError';
    this.key = init.key;
    this.value = init.value;
    this.expected = init.expected;
    this.fix = init.fix;
  }
}
