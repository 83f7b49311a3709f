import { ConfigError } from '../errors/ConfigError.ts';
import type { FormatError } from '../errors/FormatError.ts';
import { REDACTED, redactValue } from '../log/redactConfig.ts';
import { leafAt, type SchemaTree } from './schemaTree.ts';

export interface ErrorContext {
  readonly schema: SchemaTree;
  readonly configFile: string | undefined;
  readonly routesFile: string | undefined;
}

/** The one translation of a FormatError into the exit-78 message: key, value (redacted) and fix. */
export function toConfigError(err: FormatError, ctx: ErrorContext): ConfigError {
  const key = err.path;
  // The schema leaf a (possibly nested) key belongs to: `routes[2].format` → `routes`.
  const parts = key.split('[')[0]!.split('.');
  const leafKey = parts.map((_, n) => parts.slice(0, parts.length - n).join('.')).find((k) => leafAt(ctx.schema, k));
  const leaf = leafKey ? leafAt(ctx.schema, leafKey) : undefined;
  const file = ctx.configFile ?? 'the config file';
  let fix: string;
  if (err.fix !== undefined) fix = err.fix;
  else if (err.unknownKey && !leaf) fix = `remove or rename it in ${file}`;
  else if (leafKey === 'routes' && ctx.routesFile) fix = `fix it in the routes file ${ctx.routesFile}`;
  else if (err.unknownKey) fix = `remove or rename it in "${leafKey}" in ${file}`;
  else if (leaf?.env) fix = `set ${leaf.env} or "${leafKey}" in the config file`;
  else fix = `set "${leafKey ?? key}" in the config file`;
  const lastSegment =
    key
      .split(/[.[\]]/)
      .filter(Boolean)
      .at(-1) ?? '';
  const shown = err.sensitive || leaf?.sensitive ? REDACTED : redactValue(err.value, lastSegment);
  return new ConfigError({ key, ...(err.unknownKey ? { problem: 'unknown key' } : { value: shown }), expected: err.expected, fix });
}
