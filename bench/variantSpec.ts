/**
 * A runtime variant of the gateway for the alternating memory benches (idle-variants.ts, peak-variants.ts):
 * 'NAME|MAIN|NODE_OPTIONS|NODE ARGS|ENV'. MAIN: the entry point ('' = dist/main.js); NODE ARGS: flags NODE_OPTIONS
 * does not allow (--max-lazy…); ENV: more of the environment, space-separated NAME=value (MALLOC_ARENA_MAX=2).
 * Empty fields are skipped; NODE_ENV is production as under the unit.
 */
export interface Variant {
  readonly name: string;
  readonly main: string;
  readonly env: Record<string, string>;
  readonly nodeArgs: string;
}

export function parseVariant(spec: string): Variant {
  const [name = spec, main = '', nodeOptions = '', nodeArgs = '', env = ''] = spec.split('|');
  const extra = Object.fromEntries(
    env
      .split(/\s+/)
      .filter((a) => a.includes('='))
      .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  return { name, main, nodeArgs, env: { NODE_ENV: 'production', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...extra } };
}

/** Read when each gateway starts (test/harness/GatewayProcess.ts). */
export function useVariant(v: Variant): void {
  process.env.EDGEBRIDGE_TEST_MAIN = v.main;
  process.env.EDGEBRIDGE_TEST_NODE = v.nodeArgs ? `${process.execPath} ${v.nodeArgs}` : '';
}
