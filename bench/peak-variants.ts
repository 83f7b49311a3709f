/**
 * Peak RSS of the gateway under a fixed-rate QoS 0 load (default 12 500 msg/s for 16 s, 100 devices: 200 000
 * messages) for several builds or runtime settings, alternately on one set of servers so a loaded machine's drift
 * hits every variant alike. Per variant the medians of `--reps`: idle RSS before the load, peak RSS (VmHWM),
 * the anonymous part at its highest (sampled every 100 ms), received msg/s, CPU per message, and lost points.
 *
 *   node bench/peak-variants.ts --reps 3 [--rate 12500 --seconds 16] --variant 'NAME|MAIN|NODE_OPTIONS|NODE ARGS|ENV' ...
 *
 * The variant's fields: bench/variantSpec.ts (MAIN '' = dist/main.js; the unit runs dist/bundle/edgebridge.mjs).
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { median, memoryBreakdown, statusBytes, withScenario } from '../test/harness/index.ts';
import { benchArgs, benchParams, sleep, startGateway, type BenchContext } from './BenchContext.ts';
import { fmt, mb, memText } from './format.ts';
import { checkLanded, gatewayRun } from './gatewayRun.ts';
import { parseVariant, useVariant } from './variantSpec.ts';

const log = (msg: string): void => void process.stderr.write(`[peak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Sample {
  idle: { rss: number; anon: number; file: number };
  peak: number;
  peakAnon: number;
  msgPerSec: number;
  cpuUsPerMsg: number;
  lost: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      rate: { type: 'string', default: '12500' },
      seconds: { type: 'string', default: '16' },
      variant: { type: 'string', multiple: true, default: [] },
    },
  });
  const variants = values.variant.map(parseVariant);
  const rate = Number(values.rate);
  const durationMs = Number(values.seconds) * 1000;
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  await withScenario('peak-variants', log, async (scenario) => {
    const servers = await scenario.servers({ victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] } });
    const redis = new Redis(servers.rd.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    scenario.defer(() => redis.quit());
    const P = benchParams(benchArgs([]));
    let n = 0;
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
        const gw = await startGateway(b, `peak-${v.name}`, 0, 'write', {
          EDGEBRIDGE_GATEWAY_ID: `gw-peak-${n}`,
          EDGEBRIDGE_MQTT_CLEAN: 'true',
        });
        const measurement = `peak${n++}`;
        try {
          await sleep(P.idleSettleMs);
          const idle = memoryBreakdown(gw.pid);
          let peakAnon = 0;
          const timer = setInterval(() => {
            try {
              peakAnon = Math.max(peakAnon, statusBytes(gw.pid, 'RssAnon')[0]!);
            } catch {}
          }, 100);
          const run = await gatewayRun(b, gw, `${v.name} at ${rate} msg/s`, measurement, 0, 'write', { rate, durationMs });
          clearInterval(timer);
          checkLanded(b, run);
          samples.get(v.name)!.push({
            idle,
            peak: run.peakRssBytes,
            peakAnon,
            msgPerSec: run.msgPerSec,
            cpuUsPerMsg: run.cpuUsPerMsg,
            lost: run.lost.influx + run.lost.redis,
          });
        } finally {
          await gw.stop();
        }
        const s = samples.get(v.name)!.at(-1)!;
        log(
          `rep ${rep} ${v.name}: idle ${memText(s.idle)}, peak ${mb(s.peak)} (anon ${mb(s.peakAnon)}), ${fmt(s.msgPerSec)} msg/s, ${fmt(s.cpuUsPerMsg, 1)} µs/msg, lost ${s.lost}`,
        );
      }
    }
  });
  process.stdout.write(`QoS 0 at ${rate} msg/s for ${values.seconds} s, medians of ${values.reps} (RSS = anonymous + file-backed)\n`);
  for (const v of variants) {
    const s = samples.get(v.name)!;
    const m = (f: (x: Sample) => number): number => median(s.map(f));
    process.stdout.write(
      `  ${v.name.padEnd(28)} idle ${memText({ rss: m((x) => x.idle.rss), anon: m((x) => x.idle.anon), file: m((x) => x.idle.file) })}; ` +
        `peak ${mb(m((x) => x.peak))} [${s.map((x) => mb(x.peak)).join(', ')}], anon at most ${mb(m((x) => x.peakAnon))}; ` +
        `${fmt(m((x) => x.msgPerSec))} msg/s, ${fmt(
          m((x) => x.cpuUsPerMsg),
          1,
        )} µs/msg, lost ${s.map((x) => x.lost).join('/')}\n`,
    );
  }
}

await main();
