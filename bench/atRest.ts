/**
 * At rest: spawn → /readyz 200, idle RSS and idle CPU of a gateway with both sinks, and the floor under that RSS
 * measured beside it with the same runtime settings: a Node process that only waits; one that has also loaded the
 * built-in modules the gateway needs (http, https/tls, zlib, net, crypto); and one that has loaded, besides, every
 * library the gateway loads at start (package.json "dependencies" but protobufjs) without starting anything.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuMicros, memoryBreakdown, nodeCommand } from '../test/harness/index.ts';
import { HERE, sleep, startGateway, type BenchContext } from './BenchContext.ts';

export type Memory = ReturnType<typeof memoryBreakdown>;

export interface Baselines {
  readonly bare: Memory;
  readonly builtins: Memory;
  readonly libraries: Memory;
}

export interface AtRestResult {
  readyMs: number;
  idleRssBytes: number;
  idle: Memory;
  baseline: Baselines;
  idleCpuMs: number;
  idleCpuPct: number;
  idleSeconds: number;
}

export async function nodeBaselines(b: BenchContext): Promise<Baselines> {
  const run = async (code: string): Promise<Memory> => {
    // The gateway's Node and flags (EDGEBRIDGE_TEST_NODE: the unit's ExecStart flags with --tuned).
    const { command, prefix } = nodeCommand();
    const child = spawn(command, [...prefix, '-e', code], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', ...b.runtimeEnv } });
    await sleep(b.P.idleSettleMs);
    const m = memoryBreakdown(child.pid!);
    child.kill('SIGKILL');
    return m;
  };
  const builtins = "for (const m of ['http', 'https', 'tls', 'net', 'zlib', 'crypto']) require('node:' + m);";
  const pkg = path.join(HERE, '..', 'package.json');
  // What the gateway loads at start: every dependency but protobufjs, loaded only once a Sparkplug payload arrives.
  const dependencies = Object.keys(
    (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { dependencies: Record<string, string> }).dependencies,
  ).filter((d) => d !== 'protobufjs');
  const libraries = `const r = require('node:module').createRequire(${JSON.stringify(pkg)}); for (const d of ${JSON.stringify(dependencies)}) r(d);`;
  return {
    bare: await run('setInterval(() => {}, 1000)'),
    builtins: await run(`${builtins} setInterval(() => {}, 1000)`),
    libraries: await run(`${builtins} ${libraries} setInterval(() => {}, 1000)`),
  };
}

export async function atRest(b: BenchContext): Promise<AtRestResult> {
  const { P } = b;
  const baseline = await nodeBaselines(b);
  const gw = await startGateway(b, 'at-rest', 1, 'write');
  try {
    await sleep(P.idleSettleMs);
    const idle = memoryBreakdown(gw.pid);
    const c0 = cpuMicros(gw.pid);
    await sleep(P.idleMs);
    const c1 = cpuMicros(gw.pid);
    const idleCpuMs = (c1 - c0) / 1000;
    return {
      readyMs: gw.readyMs,
      idleRssBytes: idle.rss,
      idle,
      baseline,
      idleCpuMs,
      idleCpuPct: (100 * idleCpuMs) / P.idleMs,
      idleSeconds: P.idleMs / 1000,
    };
  } finally {
    await gw.stop();
  }
}
