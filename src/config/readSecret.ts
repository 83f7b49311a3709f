/**
 * Looks a secret up outside the config file, so it need not sit in a world-readable JSON file or in
 * the unit's Environment=. Precedence, highest first:
 *   1. the env var itself (`EDGEBRIDGE_MQTT_PASSWORD`, even when set to ''),
 *   2. `<ENV>_FILE`: path of a file holding the secret (Docker/Kubernetes secrets),
 *   3. `$CREDENTIALS_DIRECTORY/<credential>` (systemd LoadCredential=/SetCredentialEncrypted=),
 * then, via convict, the config file and the default.
 * File contents lose their trailing newline(s): `echo secret > file` must not add one to the secret.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors/ConfigError.ts';
import { credentialNameFor } from './schema.ts';

export interface FoundSecret {
  readonly value: string;
  /** Where it came from, for `check-config` (never the value). */
  readonly source: string;
}

const readSecretFile = (path: string): string => readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
const codeOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'error';

/** `key` (`mqtt.password`, `sinks.extra[0].token`) names the secret in errors; credential: see credentialNameFor. */
export function readSecret(key: string, envName: string, env: Readonly<Record<string, string | undefined>>): FoundSecret | undefined {
  const credentialName = credentialNameFor(envName);
  const direct = env[envName];
  if (direct !== undefined) return { value: direct, source: envName };

  const fileVar = `${envName}_FILE`;
  const file = env[fileVar];
  if (file !== undefined && file !== '') {
    try {
      return { value: readSecretFile(file), source: `${fileVar}=${file}` };
    } catch (err) {
      const problem = `${fileVar} names a file that cannot be read (${codeOf(err)}: ${file})`;
      throw new ConfigError({
        key,
        value: file,
        problem,
        expected: 'a readable file holding the secret',
        fix: `fix the path or unset ${fileVar}`,
      });
    }
  }

  const dir = env.CREDENTIALS_DIRECTORY;
  if (dir === undefined || dir === '') return undefined;
  const path = join(dir, credentialName);
  try {
    return { value: readSecretFile(path), source: `credential ${credentialName}` };
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw new ConfigError({
      key,
      value: path,
      problem: `credential "${credentialName}" cannot be read (${codeOf(err)}: ${path})`,
      expected: 'a readable systemd credential',
      fix: `check LoadCredential=${credentialName}:… in the unit`,
    });
  }
}
