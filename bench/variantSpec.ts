import { Redis } from 'ioredis';
import { withScenario } from '../test/harness/index.ts';
import { benchArgs, benchParams, type BenchContext } from './BenchContext.ts';

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

/**
 * Runs `measure` for each variant in turn, `reps` rounds, on one set of servers (alternating, so a loaded machine's
 * drift hits every variant alike); the variant is in effect for the gateways `measure` starts.
 */
export async function alternateVariants(
  name: string,
  log: (msg: string) => void,
  variants: readonly Variant[],
  reps: number,
  measure: (b: BenchContext, v: Variant, rep: number) => Promise<void>,
): Promise<void> {
  await withScenario(name, log, async (scenario) => {
    const servers = await scenario.servers({ victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] } });
    const redis = new Redis(servers.rd.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    scenario.defer(() => redis.quit());
    const P = benchParams(benchArgs([]));
    for (let rep = 1; rep <= reps; rep++) {
      for (const v of variants) {
        useVariant(v);
        const b: BenchContext = {
          ...servers,
          scenario,
          problems: scenario.problems,
          P,
          quick: false,
          profile: false,
          runtimeEnv: v.env,
          redis,
        };
        await measure(b, v, rep);
      }
    }
  });
}
