/**
 * Idle RSS of the gateway (both sinks, connected, no traffic) for several builds or runtime settings, measured
 * alternately on one set of servers so a loaded machine's drift hits every variant alike. Medians of `--reps`.
 *
 *   node bench/idle-variants.ts --reps 3 --variant 'NAME|MAIN|NODE_OPTIONS|NODE ARGS|ENV' ...
 *
 * The variant's fields: bench/variantSpec.ts.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { median, memoryBreakdown, withScenario } from '../test/harness/index.ts';
import { benchArgs, benchParams, sleep, startGateway, type BenchContext } from './BenchContext.ts';
import { memText } from './format.ts';
import { parseVariant, useVariant } from './variantSpec.ts';

const log = (msg: string): void => void process.stderr.write(`[idle ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { reps: { type: 'string', default: '3' }, variant: { type: 'string', multiple: true, default: [] } },
  });
  const variants = values.variant.map(parseVariant);
  const samples = new Map<string, { rss: number; anon: number; file: number }[]>(variants.map((v) => [v.name, []]));
  await withScenario('idle-variants', log, async (scenario) => {
    const servers = await scenario.servers({ victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] } });
    const redis = new Redis(servers.rd.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    scenario.defer(() => redis.quit());
    const P = benchParams(benchArgs([]));
    for (let rep = 1; rep <= Number(values.reps); rep++) {
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
        const gw = await startGateway(b, `idle-${v.name}`, 1, 'write');
        try {
          await sleep(P.idleSettleMs);
          samples.get(v.name)!.push(memoryBreakdown(gw.pid));
        } finally {
          await gw.stop();
        }
        log(`rep ${rep} ${v.name}: ${memText(samples.get(v.name)!.at(-1)!)}`);
      }
    }
  });
  process.stdout.write(`idle RSS, median of ${values.reps} (RSS = anonymous + file-backed)\n`);
  for (const v of variants) {
    const s = samples.get(v.name)!;
    const m = { rss: median(s.map((x) => x.rss)), anon: median(s.map((x) => x.anon)), file: median(s.map((x) => x.file)) };
    process.stdout.write(`  ${v.name.padEnd(28)} ${memText(m)}\n`);
  }
}

await main();
