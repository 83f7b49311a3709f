import { ConfigError } from '../errors/ConfigError.ts';
import { F } from './formats.ts';
import { CONFIG_FILE_FLAG } from './schema.ts';
import { leaves, type SchemaTree } from './schemaTree.ts';

interface FlagSpec {
  readonly key: string;
  readonly boolean: boolean;
}

export interface ScannedArgv {
  readonly configFile: string | undefined;
  /** [config key, raw value] in argv order (later wins). */
  readonly sets: readonly (readonly [string, string])[];
  /** Arguments that are neither a flag nor a flag's value (the command), in order; all of them after `--`. */
  readonly positionals: readonly string[];
  /** Flags (`--http-prot`, `-x`) that are not ours, as given; the CLI refuses them with a usage error. */
  readonly unknown: readonly string[];
}

/** Every flag the schema declares, as `--name` (booleans also as `--no-name`). */
export function knownFlags(schema: SchemaTree): string[] {
  const names = [`--${CONFIG_FILE_FLAG}`];
  for (const [, leaf] of leaves(schema)) {
    if (!leaf.arg) continue;
    names.push(`--${leaf.arg}`);
    if (leaf.format === F.boolean) names.push(`--no-${leaf.arg}`);
  }
  return names;
}

function flagValueError(flag: string, key: string): ConfigError {
  return new ConfigError({
    key,
    problem: `flag --${flag} has no value`,
    expected: `a value: --${flag} VALUE or --${flag}=VALUE`,
    fix: `give --${flag} a value or drop it`,
  });
}

/** Picks our flags out of argv; what is not ours is reported (positionals, unknown flags), never consumed. */
export function scanArgv(argv: readonly string[], schema: SchemaTree): ScannedArgv {
  const flags = new Map<string, FlagSpec>();
  for (const [key, leaf] of leaves(schema)) {
    if (leaf.arg) flags.set(leaf.arg, { key, boolean: leaf.format === F.boolean });
  }
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
    if (!spec) {
      const negated = name.startsWith('no-') ? flags.get(name.slice(3)) : undefined;
      if (negated?.boolean && inline === undefined) sets.push([negated.key, 'false']);
      else unknown.push(arg);
      continue;
    }
    if (spec.boolean) {
      if (inline !== undefined) sets.push([spec.key, inline]);
      else if (next === 'true' || next === 'false') sets.push([spec.key, (i++, next)]);
      else sets.push([spec.key, 'true']);
    } else {
      const value = inline ?? takeNext();
      if (value === undefined) throw flagValueError(name, spec.key);
      sets.push([spec.key, value]);
    }
  }
  return { configFile, sets, positionals, unknown };
}
