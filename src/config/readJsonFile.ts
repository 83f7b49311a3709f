import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/ConfigError.ts';

/**
 * A JSON file the configuration names (the config file, the routes file); a ConfigError naming `key`, the path and
 * `fix` when it cannot be read or parsed (without quoting its text: it may hold secrets), or is empty: a 0-byte file
 * is a truncated copy or a failed template far more often than a wish for the defaults (`{}` says that).
 */
export function readJsonFile(path: string, role: string, key: string, fix: string): unknown {
  const fail = (problem: string, expected: string) =>
    new ConfigError({ key, value: path, subject: `${role} "${path}"`, problem, expected, fix });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'a readable JSON file');
  }
  if (text.trim() === '') throw fail(text === '' ? 'is empty (0 bytes)' : 'holds only white space', 'a JSON document ({} for no settings)');
  try {
    return JSON.parse(text);
  } catch (err) {
    // JSON.parse messages may quote the text around the error — possibly a secret. Keep the position only.
    const at = /position (\d+)/.exec(String((err as Error).message));
    const before = at ? text.slice(0, Number(at[1])) : '';
    const where = at ? ` (line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')})` : '';
    throw fail(`is not valid JSON${where}`, 'a JSON document');
  }
}
