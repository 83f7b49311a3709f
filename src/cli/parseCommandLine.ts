import { createSchema } from '../config/schema.ts';
import { knownFlags, scanArgv } from '../config/scanArgv.ts';
import { closestName } from '../errors/closestName.ts';
import type { MessageProperties } from '../explain/MessageExplainer.ts';
import { extractDryRun } from './dryRun.ts';
import { extractPropertyFlags } from './propertyFlags.ts';

export type Command = 'run' | 'check-config' | 'print-config' | 'test';
const COMMANDS: readonly Command[] = ['run', 'check-config', 'print-config', 'test'];

/** The CLI's own flags, besides the config flags of the schema. */
const CLI_FLAGS = ['--help', '-h', '--version', '-v', '--dry-run', '--user-property', '--content-type'];

/** What the command line asks for; a usage error (exit 2) for anything it does not understand. */
export type CommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string }
  | {
      readonly kind: 'command';
      readonly command: Command;
      /** The dry-run input (`-` = stdin), only with `run`. */
      readonly dryRunFile: string | undefined;
      /** MQTT 5 properties every dry-run message carries (`--user-property`, `--content-type`). */
      readonly dryRunProperties?: MessageProperties | undefined;
      /** The route test files, only with `test` (at least one). */
      readonly testFiles: readonly string[];
      /** What the config loader reads: argv without `--dry-run FILE` (it skips the command itself). */
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
    return { kind: 'usage-error', message: '--user-property and --content-type go with --dry-run FILE' };
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
  if (dry !== undefined && (dry.file === undefined || command !== 'run')) {
    return { kind: 'usage-error', message: '--dry-run takes a FILE (or - for stdin) and no command other than run' };
  }
  const testFiles = testing ? scanned.positionals.slice(1) : [];
  return { kind: 'command', command, dryRunFile: dry?.file, dryRunProperties: flags.properties, testFiles, configArgv: rest };
}
