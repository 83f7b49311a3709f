import { ConfigError } from './ConfigError.ts';
import { closestName, leaves, type SchemaTree } from './schemaTree.ts';

/**
 * EDGEBRIDGE_* variables that are not configuration but are read by the project's own tooling (scripts/, bench/,
 * test/, scripts/healthcheck.js in the container): an operator's shell or a container may carry them into the
 * gateway's environment, so they must not be refused. Whole prefixes are reserved for tests, bench, arm64 runs and
 * the deployment tests (test:systemd, test:container).
 */
const TOOLING_NAMES = new Set([
  'EDGEBRIDGE_KEEP_TMP',
  'EDGEBRIDGE_NODE',
  'EDGEBRIDGE_HEALTHCHECK_TIMEOUT_MS',
  'EDGEBRIDGE_SHARE_PHASE_S',
  'EDGEBRIDGE_OUTAGE_SECONDS',
  'EDGEBRIDGE_CENTRAL_OUTAGE_S',
]);
const TOOLING_PREFIXES = ['EDGEBRIDGE_TEST_', 'EDGEBRIDGE_BENCH_', 'EDGEBRIDGE_ARM64_', 'EDGEBRIDGE_DEPLOY_'];

export interface EnvNameContext {
  readonly prefix: string;
  readonly schema: SchemaTree;
  /** Names read besides the schema's (the config file's variable, the extra sinks' secrets). */
  readonly extra: readonly string[];
}

/** Every configuration variable: each leaf's, `_FILE` of each secret, and `extra` (with `_FILE` for secrets). */
export function knownEnvNames(ctx: EnvNameContext): string[] {
  const names: string[] = [];
  for (const [, leaf] of leaves(ctx.schema)) {
    if (leaf.env === undefined) continue;
    names.push(leaf.env);
    if (leaf.sensitive) names.push(`${leaf.env}_FILE`);
  }
  return [...names, ...ctx.extra];
}

/**
 * A misspelt variable (`EDGEBRIDGE_HTTP_PROT`) would otherwise be ignored and the gateway run on the default it was
 * meant to change: refuse it, naming the likely intended one. The value is never shown (it may be a secret).
 */
export function checkEnvNames(env: Readonly<Record<string, string | undefined>>, ctx: EnvNameContext): void {
  let known: Set<string> | undefined;
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ctx.prefix) || env[name] === undefined) continue;
    if (TOOLING_NAMES.has(name) || TOOLING_PREFIXES.some((p) => name.startsWith(p))) continue;
    known ??= new Set(knownEnvNames(ctx));
    if (known.has(name)) continue;
    const guess = closestName(name, [...known]);
    throw new ConfigError({
      key: name,
      subject: `environment variable ${name}`,
      problem: 'is not a setting of edgebridge',
      expected: guess ? `${guess} (did you mean it?)` : 'an EDGEBRIDGE_* variable of the configuration reference',
      fix: guess ? `rename it to ${guess}, or unset it` : 'unset it or correct its name (see the configuration reference)',
    });
  }
}
