/**
 * The gateway's own per-message work without the network: routes N climate messages (100 devices, the bench's
 * payloads) through a build's Router and encodes each result as a spool record, and prints the CPU per message.
 * Pointed at two builds (e.g. this checkout's dist/ and a copy of an older one kept inside the checkout), it
 * compares them; under `valgrind --tool=callgrind` it counts instructions, repeatable on a loaded machine (run it at
 * two N and divide the difference by the extra messages: start-up cancels out).
 *
 *   node bench/hot-path.ts [DIST=dist] [N=200000] [route|encode|both]
 */
import path from 'node:path';
import { HERE } from './BenchContext.ts';

const [distArg, nArg, what = 'both'] = process.argv.slice(2);
const dist = path.resolve(distArg ?? path.join(HERE, '..', 'dist'));
const N = Number(nArg ?? 200_000);
const { Router } = (await import(path.join(dist, 'pipeline/Router.js'))) as typeof import('../src/pipeline/Router.ts');
const { parseRoutes } = (await import(path.join(dist, 'route/parseRoutes.js'))) as typeof import('../src/route/parseRoutes.ts');
const { encodeRecord } = (await import(path.join(dist, 'spool/disk/recordCodec.js'))) as typeof import('../src/spool/disk/recordCodec.ts');

const router = new Router({
  routes: parseRoutes([
    {
      topic: 'sensors/{device}/{measurement}',
      format: 'json',
      measurement: '{measurement}',
      tags: { device: '{device}' },
      fields: [],
      flatten: false,
      timeField: 'ts',
      timeUnit: 'ms',
      sinks: [],
    },
  ]),
  sinkNames: ['influx', 'redis'],
  gatewayId: 'gw',
  gatewayTag: false,
  maxPayloadBytes: 65_536,
});
const topics = Array.from({ length: 100 }, (_, d) => `sensors/dev${d + 1}/climate`);
// As bench/climateMessages.ts makes them.
const payloads = Array.from({ length: 1000 }, (_, n) =>
  Buffer.from(`{"t":${20 + (n % 100) / 10},"h":${40 + (n % 37) / 10},"p":1013.2,"ts":${1_733_250_000_000 + n}}`),
);
const entries = payloads.map((p, n) => {
  const r = router.route(topics[n % 100]!, p, 1_733_250_000_000);
  if (r.kind !== 'ok') throw new Error(`not routed: ${JSON.stringify(r)}`);
  return r.entry;
});
const scratch = Buffer.allocUnsafe(4096);
let check = 0;
const t0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const k = i % 1000;
  const entry = what === 'encode' ? entries[k]! : router.route(topics[i % 100]!, payloads[k]!, 1_733_250_000_000);
  if (what === 'route') check += (entry as { kind: string }).kind.length;
  else check ^= encodeRecord(('entry' in entry ? entry.entry : entry) as (typeof entries)[number], scratch).readUInt32LE(4);
}
const used = process.cpuUsage(t0);
process.stdout.write(`${dist} ${what}: ${Math.round(((used.user + used.system) * 1000) / N)} ns per message (${N}; check ${check})\n`);
