import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/ConfigError.ts';

/** JSON.parse messages may quote the text around the error — possibly a secret. Keep the position only. */
function jsonProblem(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(String((err as Error).message));
  if (!m) return 'is not valid JSON';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `is not valid JSON (line ${line}, column ${column})`;
}

/**
 * A JSON file the configuration names (the config file, the routes file); a ConfigError naming `key`, the path and
 * `fix` when it cannot be read or parsed (without quoting its text: it may hold secrets), or is empty: a 0-byte file
 * is a truncated copy or a failed template far more often than a wish for the defaults (`{}` says that).
 */
export function readJsonFile(path: string, role: string, key: string, fix: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError({
      key,
      value: path,
      subject: `${role} "${path}"`,
      problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      expected: 'a readable JSON file',
      fix,
    });
  }
  if (text.trim() === '') {
    throw new ConfigError({
      key,
      value: path,
      subject: `${role} "${path}"`,
      problem: text === '' ? 'is empty (0 bytes)' : 'holds only white space',
      expected: 'a JSON document ({} for no settings)',
      fix,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError({
      key,
      value: path,
      subject: `${role} "${path}"`,
      problem: jsonProblem(text, err),
      expected: 'a JSON document',
      fix,
    });
  }
}
