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
 * Beside the CPU it prints, per message received, what is paid per wake-up: the main thread's context switches
 * (each one a return from epoll_wait with nothing to do = one wake-up), the process's read- and write-type
 * syscalls (/proc/<pid>/io syscr, syscw) and the user/system split. `--strace S`: `strace -c -f` on the gateway
 * for S seconds from 4 s into the first build's first repetition (slows it: counts, not times, are the point).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { clockTicksPerSecond, median, round, runAsMain, withScenario } from '../test/harness/index.ts';
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
      strace: { type: 'string', default: '0' },
    },
  });
  const rate = Number(values.rate);
  const count = Number(values.count);
  const reps = Number(values.reps);
  const builds: (string | undefined)[] = [undefined, ...values.main];
  const label = (m: string | undefined): string => m ?? 'dist/main.js';
  const cpuSeconds = builds.map((): number[] => []);
  const usPerMsg = builds.map((): number[] => []);
  const perMsg = builds.map((): WakeCounters[] => []);
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
          const w0 = wakeCounters(gw.pid);
          const traced = rep === 1 && i === 0 && Number(values.strace) > 0 ? straceLater(gw.pid, 4000, Number(values.strace)) : undefined;
          const r = await gatewayRun(b, gw, `${label(builds[i])} rep ${rep}`, `rate${i}r${rep}`, 0, 'write', {
            rate,
            durationMs: Math.round((count / rate) * 1000),
          });
          checkLanded(b, r);
          const w = perMessage(w0, wakeCounters(gw.pid), r.received);
          perMsg[i]!.push(w);
          log(`rep ${rep} ${label(builds[i])} per message: ${describe(w)}`);
          const { influx, redis: rd } = r.latencyMs;
          log(
            `rep ${rep} ${label(builds[i])} publish → visible p50/p99: InfluxDB ${round(influx.p50)}/${round(influx.p99)} ms, Redis ${round(rd.p50)}/${round(rd.p99)} ms`,
          );
          if (traced !== undefined) log(`strace -c -f, ${values.strace} s:\n${await traced}`);
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
    const m = (k: keyof WakeCounters): number => median(perMsg[i]!.map((w) => w[k]));
    process.stdout.write(
      `  per message (medians): ${describe({ wakeups: m('wakeups'), syscr: m('syscr'), syscw: m('syscw'), userUs: m('userUs'), sysUs: m('sysUs'), mainUs: m('mainUs') })}\n`,
    );
  }
}

interface WakeCounters {
  /** Main thread's voluntary context switches: it slept in epoll_wait and was woken. */
  wakeups: number;
  syscr: number;
  syscw: number;
  userUs: number;
  sysUs: number;
  /** CPU of the main thread (the rest is V8's and libuv's helper threads: GC, compiler, fs pool). */
  mainUs: number;
}

function wakeCounters(pid: number): WakeCounters {
  const status = fs.readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const fields = (file: string): string[] => {
    const stat = fs.readFileSync(file, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const rest = fields(`/proc/${pid}/stat`);
  const main = fields(`/proc/${pid}/task/${pid}/stat`);
  const get = (text: string, k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const us = 1_000_000 / clockTicksPerSecond();
  return {
    wakeups: get(status, 'voluntary_ctxt_switches'),
    syscr: get(io, 'syscr'),
    syscw: get(io, 'syscw'),
    userUs: Number(rest[11]) * us,
    sysUs: Number(rest[12]) * us,
    mainUs: (Number(main[11]) + Number(main[12])) * us,
  };
}

function perMessage(a: WakeCounters, b: WakeCounters, n: number): WakeCounters {
  const d = (k: keyof WakeCounters): number => (b[k] - a[k]) / Math.max(1, n);
  return { wakeups: d('wakeups'), syscr: d('syscr'), syscw: d('syscw'), userUs: d('userUs'), sysUs: d('sysUs'), mainUs: d('mainUs') };
}

function describe(w: WakeCounters): string {
  return (
    `${round(w.wakeups, 3)} wake-ups of the main thread, ${round(w.syscr, 3)} read-type and ${round(w.syscw, 3)} ` +
    `write-type syscalls, ${round(w.userUs, 2)} µs user + ${round(w.sysUs, 2)} µs system, ${round(w.mainUs, 2)} µs of it ` +
    'on the main thread'
  );
}

/** `strace -c -f -p PID` for `seconds`, starting after `delayMs`; resolves to its summary table. */
function straceLater(pid: number, delayMs: number, seconds: number): Promise<string> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const child = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let out = '';
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', (e) => resolve(`strace failed: ${e.message}`));
      child.on('close', () => resolve(out));
      setTimeout(() => child.kill('SIGINT'), seconds * 1000);
    }, delayMs);
  });
}

runAsMain(import.meta, 'cpu-at-rate failed:', main);
