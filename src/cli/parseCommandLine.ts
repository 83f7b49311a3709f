import { createSchema } from '../config/schema.ts';
import { knownFlags, scanArgv } from '../config/scanArgv.ts';
import { closestName } from '../errors/closestName.ts';
import { DRY_RUN_FLAGS, type DryRunInput, extractDryRun } from './dryRun.ts';
import { extractPropertyFlags } from './propertyFlags.ts';

export type Command = 'run' | 'check-config' | 'print-config' | 'test';
const COMMANDS: readonly Command[] = ['run', 'check-config', 'print-config', 'test'];

/** The CLI's own flags, besides the config flags of the schema. */
const CLI_FLAGS = ['--help', '-h', '--version', '-v', ...DRY_RUN_FLAGS, '--user-property', '--content-type'];

/** What the command line asks for; a usage error (exit 2) for anything it does not understand. */
export type CommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string }
  | {
      readonly kind: 'command';
      readonly command: Command;
      /** The dry-run input (FILE, `-` = stdin, or the command line's messages), only with `run`. */
      readonly dryRun: DryRunInput | undefined;
      /** The route test files, only with `test` (at least one). */
      readonly testFiles: readonly string[];
      /** What the config loader reads: argv without the dry-run flags (it skips the command itself). */
      readonly configArgv: readonly string[];
    };

/**
 * Reads argv the way the loader will, so that nothing is guessed: the command is the one argument that is neither a
 * flag nor a flag's value, wherever it stands (`--config F check-config`); an unknown flag or a second word is a
 * usage error, never ignored — a typo must not start the gateway with the defaults.
 * Throws ConfigError for a config flag without its value (as the loader would).
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  if (argv.includes('--version') || argv.includes('-v')) return { kind: 'version' };
  const dry = extractDryRun(argv);
  const flags = extractPropertyFlags(dry?.argv ?? argv);
  if (flags.error !== '') return { kind: 'usage-error', message: flags.error };
  if (flags.properties !== undefined && dry === undefined) {
    return { kind: 'usage-error', message: '--user-property and --content-type go with --dry-run' };
  }
  const rest = flags.argv;
  const schema = createSchema('edgebridge');
  const scanned = scanArgv(rest, schema);
  const flag = scanned.unknown[0];
  if (flag !== undefined) {
    const name = flag.split('=', 1)[0]!;
    const guess = closestName(name, [...knownFlags(schema), ...CLI_FLAGS]);
    return { kind: 'usage-error', message: `unknown option "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}` };
  }
  // `test FILE…`: the words after the command are its files.
  const testing = scanned.positionals[0] === 'test';
  if (testing && scanned.positionals.length < 2) return { kind: 'usage-error', message: 'test takes one or more route test FILEs' };
  if (!testing && scanned.positionals.length > 1) {
    return {
      kind: 'usage-error',
      message: `unexpected argument "${scanned.positionals[1]}" after the command "${scanned.positionals[0]}"`,
    };
  }
  const word = scanned.positionals[0] ?? 'run';
  const command = COMMANDS.find((c) => c === word);
  if (command === undefined) {
    const guess = closestName(word, COMMANDS);
    return { kind: 'usage-error', message: `unknown command "${word}"${guess ? ` (did you mean "${guess}"?)` : ''}` };
  }
  if (dry !== undefined && command !== 'run') return { kind: 'usage-error', message: '--dry-run takes no command other than run' };
  if (dry?.error !== undefined) return { kind: 'usage-error', message: dry.error };
  const testFiles = testing ? scanned.positionals.slice(1) : [];
  const dryRun: DryRunInput | undefined =
    dry === undefined ? undefined : { file: dry.file, encoding: dry.encoding, messages: dry.messages, properties: flags.properties };
  return { kind: 'command', command, dryRun, testFiles, configArgv: rest };
}
