/**
 * CPU seconds of the gateway for a fixed QoS 0 load (default: 200 000 messages from 100 devices at 12 500 msg/s,
 * the load of the Node-RED comparison), and optionally of other builds beside it, interleaved per repetition
 * so that every build sees the same machine load:
 *
 *   node bench/cpu-at-rate.ts [--rate 12500] [--count 200000] [--reps 3] [--main path/to/other/dist/main.js]…
 *
 * `--main` (repeatable) adds a build to compare (e.g. a copy of an older dist/ kept inside the checkout, so its
 * imports resolve to the same node_modules); this checkout's dist/main.js always runs first in each repetition.
 * CPU is the process's utime + stime (V8's helper threads included) from publish start until both sinks hold
 * every point; nothing is saved. `--profile`: each gateway under `node --cpu-prof` (see PROFILE_DIR).
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { median, round, runAsMain, withScenario } from '../test/harness/index.ts';
import { benchArgs, benchParams, startGateway, type BenchContext } from './BenchContext.ts';
import { checkLanded, gatewayRun } from './gatewayRun.ts';

const log = (msg: string): void => void process.stderr.write(`[cpu-at-rate ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '12500' },
      count: { type: 'string', default: '200000' },
      reps: { type: 'string', default: '3' },
      main: { type: 'string', multiple: true, default: [] },
      // Every gateway under `node --cpu-prof` (bench/results/profiles/rate-b<build>-r<rep>.cpuprofile; read with
      // `node bench/profile.ts FILE`): a slower gateway, so compare profiles with profiles only.
      profile: { type: 'boolean', default: false },
    },
  });
  const rate = Number(values.rate);
  const count = Number(values.count);
  const reps = Number(values.reps);
  const builds: (string | undefined)[] = [undefined, ...values.main];
  const label = (m: string | undefined): string => m ?? 'dist/main.js';
  const cpuSeconds = builds.map((): number[] => []);
  const usPerMsg = builds.map((): number[] => []);
  await withScenario('cpu-at-rate', log, async (scenario) => {
    const servers = await scenario.servers({ victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] } });
    const redis = new Redis(servers.rd.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    scenario.defer(() => redis.quit());
    const argv = benchArgs([]);
    const b: BenchContext = {
      ...servers,
      scenario,
      problems: scenario.problems,
      P: benchParams(argv),
      quick: false,
      profile: values.profile,
      runtimeEnv: {},
      redis,
    };
    for (let rep = 1; rep <= reps; rep++) {
      for (let i = 0; i < builds.length; i++) {
        const gw = await startGateway(b, `rate-b${i}-r${rep}`, 0, 'write', {}, builds[i]);
        try {
          const r = await gatewayRun(b, gw, `${label(builds[i])} rep ${rep}`, `rate${i}r${rep}`, 0, 'write', {
            rate,
            durationMs: Math.round((count / rate) * 1000),
          });
          checkLanded(b, r);
          const s = (r.cpuUsPerMsg * r.received) / 1e6;
          cpuSeconds[i]!.push(s);
          usPerMsg[i]!.push(r.cpuUsPerMsg);
          log(`rep ${rep} ${label(builds[i])}: ${r.received} received, ${round(s, 2)} CPU s, ${round(r.cpuUsPerMsg, 2)} µs/msg`);
        } finally {
          await gw.stop();
        }
      }
    }
  });
  for (let i = 0; i < builds.length; i++) {
    const all = cpuSeconds[i]!.map((s) => round(s, 2)).join(', ');
    const us = usPerMsg[i]!.map((s) => round(s, 2)).join(', ');
    // Under load the fleet may send fewer than `count` messages in the time: the per-message figure compares.
    process.stdout.write(
      `${label(builds[i])}: median ${round(median(cpuSeconds[i]!), 2)} CPU s (${all}); ` +
        `median ${round(median(usPerMsg[i]!), 2)} µs/msg (${us}), i.e. ${round((median(usPerMsg[i]!) * count) / 1e6, 2)} CPU s per ${count}\n`,
    );
  }
}

runAsMain(import.meta, 'cpu-at-rate failed:', main);
