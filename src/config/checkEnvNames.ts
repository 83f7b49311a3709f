import { ConfigError } from '../errors/ConfigError.ts';
import { closestName } from '../errors/closestName.ts';
import { leaves, type SchemaTree } from './schemaTree.ts';

/**
 * EDGEBRIDGE_* variables that are not configuration but are read by the project's own tooling (scripts/, bench/,
 * test/, scripts/healthcheck.js in the container): an operator's shell or a container may carry them into the
 * gateway's environment, so they must not be refused. Whole prefixes are reserved for tests, bench, arm64, power-cut and deployment runs.
 */
const TOOLING_NAMES = new Set([
  'EDGEBRIDGE_KEEP_TMP',
  'EDGEBRIDGE_NODE',
  'EDGEBRIDGE_HEALTHCHECK_TIMEOUT_MS',
  'EDGEBRIDGE_SHARE_PHASE_S',
  'EDGEBRIDGE_OUTAGE_SECONDS',
  'EDGEBRIDGE_CENTRAL_OUTAGE_S',
  // src/stats/MemoryTrace.ts, a diagnostic read before the configuration.
  'EDGEBRIDGE_MEMORY_TRACE',
]);
const TOOLING = /^EDGEBRIDGE_(TEST|BENCH|ARM64|POWERCUT|DEPLOY)_/;

export interface EnvNameContext {
  readonly prefix: string;
  readonly schema: SchemaTree;
  /** Names read besides the schema's (the config file's variable, the extra sinks' secrets). */
  readonly extra: readonly string[];
}

/**
 * A misspelt variable (`EDGEBRIDGE_HTTP_PROT`) would otherwise be ignored and the gateway run on the default it was
 * meant to change: refuse it, naming the likely intended one. The value is never shown (it may be a secret).
 */
export function checkEnvNames(env: Readonly<Record<string, string | undefined>>, ctx: EnvNameContext): void {
  const names = Object.keys(env).filter(
    (n) => n.startsWith(ctx.prefix) && env[n] !== undefined && !TOOLING_NAMES.has(n) && !TOOLING.test(n),
  );
  if (names.length === 0) return;
  // Every configuration variable: each leaf's, `_FILE` of each secret, and `extra`.
  const known = [...leaves(ctx.schema)].flatMap(([, l]) => (l.env === undefined ? [] : l.sensitive ? [l.env, `${l.env}_FILE`] : [l.env]));
  known.push(...ctx.extra);
  const name = names.find((n) => !known.includes(n));
  if (name === undefined) return;
  const guess = closestName(name, known);
  throw new ConfigError({
    key: name,
    subject: `environment variable ${name}`,
    problem: 'is not a setting of edgebridge',
    expected: guess ? `${guess} (did you mean it?)` : 'an EDGEBRIDGE_* variable of the configuration reference',
    fix: guess ? `rename it to ${guess}, or unset it` : 'unset it or correct its name (see the configuration reference)',
  });
}
