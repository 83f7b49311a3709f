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
}

function flagValueError(flag: string, key: string): ConfigError {
  return new ConfigError({
    key,
    problem: `flag --${flag} has no value`,
    expected: `a value: --${flag} VALUE or --${flag}=VALUE`,
    fix: `give --${flag} a value or drop it`,
  });
}

/** Picks our flags out of argv; everything else belongs to the CLI and is left alone. */
export function scanArgv(argv: readonly string[], schema: SchemaTree): ScannedArgv {
  const flags = new Map<string, FlagSpec>();
  for (const [key, leaf] of leaves(schema)) {
    if (leaf.arg) flags.set(leaf.arg, { key, boolean: leaf.format === F.boolean });
  }
  let configFile: string | undefined;
  const sets: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const next = argv[i + 1];
    const takeNext = (): string | undefined =>
      next !== undefined && !next.startsWith('--') ? (i++, next) : undefined;

    if (name === CONFIG_FILE_FLAG) {
      configFile = inline ?? takeNext();
      if (configFile === undefined) throw flagValueError(name, 'config');
      continue;
    }
    const spec = flags.get(name);
    if (!spec) {
      const negated = name.startsWith('no-') ? flags.get(name.slice(3)) : undefined;
      if (negated?.boolean && inline === undefined) sets.push([negated.key, 'false']);
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
  return { configFile, sets };
}
