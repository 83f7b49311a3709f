/**
 * What each library and import layout costs in memory, loaded and idle: one fresh Node per variant, which loads
 * it and then only waits; after settling, /proc/<pid>/status gives RssAnon and RssFile. Medians of a few runs.
 *
 *   node bench/memory-floor.ts [--runs 3] [--settle-ms 2500] [--node-options="..."] [--tuned] [--only a,b]
 *
 * `--tuned` uses the systemd unit's runtime environment (as `bench/run.ts --tuned`). Needs a build (dist/).
 * The variants require CommonJS entry points where the gateway does, and `import()` where it does (an ES import of
 * a built-in such as node:http builds its ESM facade, which costs more than `require`).
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { median, memoryBreakdown, unitEnvironment } from '../test/harness/index.ts';
import { HERE, sleep } from './BenchContext.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const req = (m: string): string => `require(${JSON.stringify(m)});`;
const imp = (m: string): string => `await import(${JSON.stringify(m)});`;
const builtins = ['http', 'https', 'tls', 'net', 'zlib', 'crypto'].map((m) => req(`node:${m}`)).join(' ');

const LIBRARIES = [
  'mqtt',
  'ioredis',
  'prom-client',
  '@influxdata/influxdb-client',
  'pino',
  'convict',
  'protobufjs',
  'cluster-key-slot',
  'cockatiel',
];

/** name → [code, is ES module]. The libraries are resolved from the project's root. */
export const VARIANTS: Record<string, [string, boolean]> = {
  bare: ['', false],
  'bare, ES module': ['', true],
  builtins: [builtins, false],
  mqtt: [`${builtins} ${req('mqtt')}`, false],
  ioredis: [`${builtins} ${req('ioredis')}`, false],
  'prom-client': [`${builtins} ${req('prom-client')}`, false],
  influx: [`${builtins} ${req('@influxdata/influxdb-client')}`, false],
  pino: [`${builtins} ${req('pino')}`, false],
  cockatiel: [`${builtins} ${req('cockatiel')}`, false],
  convict: [`${builtins} ${req('convict')}`, false],
  protobufjs: [`${builtins} ${req('protobufjs')}`, false],
  'all libraries': [`${builtins} ${LIBRARIES.map(req).join(' ')}`, false],
  // What each costs on top of the others (the first library loaded pays for much that the rest share).
  ...Object.fromEntries(
    LIBRARIES.map((l) => [
      `all but ${l}`,
      [
        `${builtins} ${LIBRARIES.filter((x) => x !== l)
          .map(req)
          .join(' ')}`,
        false,
      ],
    ]),
  ),
  'gateway modules (dist)': [`${builtins} ${imp(`${ROOT}dist/Gateway.js`)} ${imp(`${ROOT}dist/cli/runGateway.js`)}`, true],
};

async function measure(
  code: string,
  esm: boolean,
  env: Record<string, string>,
  nodeArgs: string[],
  settleMs: number,
): Promise<{ anon: number; file: number }> {
  const script = esm
    ? `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(`${ROOT}package.json`)}); ${code} setInterval(() => {}, 1000);`
    : `${code} setInterval(() => {}, 1000);`; // -e resolves from the working directory, the project's root
  const args = [...nodeArgs, ...(esm ? ['--input-type=module', '-e', script] : ['-e', script])];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  try {
    await sleep(settleMs);
    const m = memoryBreakdown(child.pid!);
    return { anon: m.anon, file: m.file };
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      'settle-ms': { type: 'string', default: '2500' },
      'node-options': { type: 'string' },
      // V8 flags NODE_OPTIONS does not allow (--max-lazy, --no-opt, --single-threaded…), on the command line.
      'node-args': { type: 'string', default: '' },
      tuned: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const env: Record<string, string> = values.tuned
    ? unitEnvironment(`${HERE}/../systemd/edgebridge.service`)
    : values['node-options'] !== undefined
      ? { NODE_OPTIONS: values['node-options'] }
      : {};
  const only = values.only?.split(',');
  const nodeArgs = values['node-args'].split(/\s+/).filter((a) => a !== '');
  const runs = Number(values.runs);
  const mb = (b: number): string => (b / 1048576).toFixed(1).padStart(6); // MiB, as the bench prints
  process.stdout.write(`memory floor, median of ${runs}, env ${JSON.stringify(env)}, node ${nodeArgs.join(' ')}\n`);
  process.stdout.write(`${'variant'.padEnd(26)}   RSS MB   anon   file\n`);
  for (const [name, [code, esm]] of Object.entries(VARIANTS)) {
    if (only !== undefined && !only.includes(name)) continue;
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await measure(code, esm, env, nodeArgs, Number(values['settle-ms'])));
    const anon = median(samples.map((s) => s.anon));
    const file = median(samples.map((s) => s.file));
    process.stdout.write(`${name.padEnd(26)} ${mb(anon + file)} ${mb(anon)} ${mb(file)}\n`);
  }
}

await main();
