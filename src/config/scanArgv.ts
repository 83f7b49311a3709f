import { ConfigError } from '../errors/ConfigError.ts';
import { F } from './formats.ts';
import { CONFIG_FILE_FLAG } from './schema.ts';
import { leaves, type SchemaTree } from './schemaTree.ts';

export interface ScannedArgv {
  readonly configFile: string | undefined;
  /** [config key, raw value] in argv order (later wins). */
  readonly sets: readonly (readonly [string, string])[];
  /** Arguments that are neither a flag nor a flag's value (the command), in order; all of them after `--`. */
  readonly positionals: readonly string[];
  /** Flags (`--http-prot`, `-x`) that are not ours, as given; the CLI refuses them with a usage error. */
  readonly unknown: readonly string[];
}

/** Flag name → the key it sets, and whether it is a boolean (which also takes --no-<flag>). */
function flagsOf(schema: SchemaTree): Map<string, { readonly key: string; readonly boolean: boolean }> {
  return new Map([...leaves(schema)].flatMap(([key, leaf]) => (leaf.arg ? [[leaf.arg, { key, boolean: leaf.format === F.boolean }]] : [])));
}

/** Every flag the schema declares, as `--name` (booleans also as `--no-name`). */
export function knownFlags(schema: SchemaTree): string[] {
  return [`--${CONFIG_FILE_FLAG}`, ...[...flagsOf(schema)].flatMap(([arg, f]) => (f.boolean ? [`--${arg}`, `--no-${arg}`] : [`--${arg}`]))];
}

function flagValueError(flag: string, key: string): ConfigError {
  const expected = `a value: --${flag} VALUE or --${flag}=VALUE`;
  return new ConfigError({ key, problem: `flag --${flag} has no value`, expected, fix: `give --${flag} a value or drop it` });
}

/** Picks our flags out of argv; what is not ours is reported (positionals, unknown flags), never consumed. */
export function scanArgv(argv: readonly string[], schema: SchemaTree): ScannedArgv {
  const flags = flagsOf(schema);
  let configFile: string | undefined;
  const sets: [string, string][] = [];
  const positionals: string[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) {
      unknown.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const next = argv[i + 1];
    const takeNext = (): string | undefined => (next !== undefined && !next.startsWith('--') ? (i++, next) : undefined);

    if (name === CONFIG_FILE_FLAG) {
      configFile = inline ?? takeNext();
      if (configFile === undefined) throw flagValueError(name, 'config');
      continue;
    }
    const spec = flags.get(name);
    const negated = spec === undefined && name.startsWith('no-') ? flags.get(name.slice(3)) : undefined;
    if (negated?.boolean && inline === undefined) sets.push([negated.key, 'false']);
    else if (spec === undefined) unknown.push(arg);
    else if (!spec.boolean) {
      const value = inline ?? takeNext();
      if (value === undefined) throw flagValueError(name, spec.key);
      sets.push([spec.key, value]);
    } else if (inline !== undefined) sets.push([spec.key, inline]);
    else if (next === 'true' || next === 'false') sets.push([spec.key, (i++, next)]);
    else sets.push([spec.key, 'true']);
  }
  return { configFile, sets, positionals, unknown };
}
