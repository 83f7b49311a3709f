/**
 * CPU cost of Sparkplug B decoding per message, in process, with the real parts and no network:
 *
 *   node bench/sparkplug.ts [--messages N] [--reps R] [--nodes K] [--metrics M] [--storm S] [--storm-dir DIR]
 *
 * K edge nodes (default 100) are born (NBIRTH with M metrics by alias, default 10: floats with an engUnit, UInt64
 * counters, booleans, an Int32), then N NDATA messages (default 100 000), each carrying every metric by alias with
 * one timestamp, go through the Router with the preset route (config/routes/sparkplug.json). Two figures, CPU time
 * (process.cpuUsage, user + system) per message, median over R repetitions (default 5): `protobuf decode` alone
 * (decodePayload of the bundled schema), and `route` — the whole decoder: topic grammar, protobuf, host state (seq,
 * aliases), line protocol. The payload size is printed too. A third figure: `DBIRTH` of 50 metrics through the Router
 * (each replaces its device's alias map; no store), CPU per message.
 *
 * Then a birth storm (S edge nodes, default 500; 0 skips it): each node's NBIRTH (bdSeq + M metrics) and a DBIRTH
 * of 50 metrics, as after a broker restart, through a host whose alias maps are kept on disk in DIR (default a
 * temporary directory under os.tmpdir(); give one on the spool's disk), 16 messages per event-loop turn (as a
 * socket read hands mqtt.js several packets), after a warm-up storm; then the same storm with no store (memory
 * only), for the part that is decoding. Printed: how long the event loop was blocked (monitorEventLoopDelay max and
 * p99; the longest and total synchronous time of a turn), the time until every map was on disk, the writes.
 */
import { parseArgs } from 'node:util';
import { parseRoutes } from '../src/route/parseRoutes.ts';
import { Router } from '../src/pipeline/Router.ts';
import { SparkplugHost } from '../src/pipeline/sparkplug/SparkplugHost.ts';
import { SparkplugStats } from '../src/pipeline/sparkplug/SparkplugStats.ts';
import { DataType } from '../src/sparkplug/DataType.ts';
import { decodePayload, encodePayload } from '../src/sparkplug/SparkplugCodec.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { SparkplugStore } from '../src/pipeline/sparkplug/SparkplugStore.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    reps: { type: 'string' },
    nodes: { type: 'string' },
    metrics: { type: 'string' },
    storm: { type: 'string' },
    'storm-dir': { type: 'string' },
  },
});
const STORM = Number(values.storm ?? 500);
const DEVICE_METRICS = 50;
const MESSAGES = Number(values.messages ?? 100_000);
const REPS = Number(values.reps ?? 5);
const NODES = Number(values.nodes ?? 100);
const METRICS = Number(values.metrics ?? 10);

const preset = JSON.parse(readFileSync(new URL('../config/routes/sparkplug.json', import.meta.url), 'utf8')) as unknown;
const KINDS = [
  { datatype: DataType.Float, member: 'float_value', value: (n: number) => 20 + (n % 100) / 10, unit: '°C' },
  { datatype: DataType.UInt64, member: 'long_value', value: (n: number) => n, unit: undefined },
  { datatype: DataType.Boolean, member: 'boolean_value', value: (n: number) => n % 2 === 0, unit: undefined },
  { datatype: DataType.Int32, member: 'int_value', value: (n: number) => n % 1000, unit: undefined },
  { datatype: DataType.Double, member: 'double_value', value: (n: number) => 1013.25 + n / 1000, unit: 'hPa' },
];
const kind = (i: number) => KINDS[i % KINDS.length]!;

function birth(): Buffer {
  return encodePayload({
    timestamp: 1_700_000_000_000,
    seq: 0,
    metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: 0 }, ...birthMetrics(METRICS)],
  });
}

/** A DBIRTH of `DEVICE_METRICS` metrics at `seq`. */
function deviceBirth(seq: number): Buffer {
  return encodePayload({ timestamp: 1_700_000_000_000, seq, metrics: birthMetrics(DEVICE_METRICS) });
}

function birthMetrics(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `Line 1/Metric ${i}`,
    alias: i + 1,
    datatype: kind(i).datatype,
    [kind(i).member]: kind(i).value(0),
    ...(kind(i).unit === undefined
      ? {}
      : { properties: { keys: ['engUnit'], values: [{ type: DataType.String, string_value: kind(i).unit }] } }),
  }));
}

/** 256 NDATA payloads, seq 0..255 (seq 0 follows the BIRTH's seq 0 only after a wrap: the bench starts at 1). */
const data = Array.from({ length: 256 }, (_, seq) =>
  encodePayload({
    timestamp: 1_700_000_000_000 + seq * 1000,
    seq,
    metrics: Array.from({ length: METRICS }, (_, i) => ({ alias: i + 1, [kind(i).member]: kind(i).value(seq) })),
  }),
);

function cpuUs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

const samples = { decode: [] as number[], route: [] as number[], dbirth: [] as number[] };
for (let rep = 0; rep < REPS; rep++) {
  const host = new SparkplugHost({
    stats: new SparkplugStats(),
    rebirth: false,
    rebirthMinIntervalMs: 60_000,
    maxNodes: NODES * 2,
    propertyTags: ['engUnit'],
  });
  const router = new Router({
    routes: parseRoutes(preset),
    sinkNames: ['influx', 'redis'],
    gatewayId: 'bench',
    gatewayTag: true,
    maxPayloadBytes: 65536,
    sparkplug: host,
  });
  const topics = Array.from({ length: NODES }, (_, n) => `spBv1.0/plant/NDATA/edge${n}`);
  for (let n = 0; n < NODES; n++) router.route(`spBv1.0/plant/NBIRTH/edge${n}`, birth(), Date.now());

  let t = process.cpuUsage();
  let metrics = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const p = decodePayload(data[(1 + i) % 256]!);
    if (!('error' in p)) metrics += p.metrics.length;
  }
  samples.decode.push(cpuUs(t) / MESSAGES);
  if (metrics !== MESSAGES * METRICS) throw new Error('decode lost metrics');

  const now = Date.now();
  t = process.cpuUsage();
  for (let i = 0; i < MESSAGES; i++) {
    // Message i goes to node i % NODES; each node sees seq 1, 2, … in order.
    const seq = (1 + Math.floor(i / NODES)) % 256;
    const r = router.route(topics[i % NODES]!, data[seq]!, now);
    if (r.kind !== 'ok') throw new Error(`bench message not written: ${JSON.stringify(r)}`);
  }
  samples.route.push(cpuUs(t) / MESSAGES);

  // DBIRTHs of one node's device, seq continuing after the node's last message.
  const births = Array.from({ length: 256 }, (_, seq) => deviceBirth(seq));
  router.route('spBv1.0/plant/NBIRTH/edge0', birth(), now); // seq 0: the DBIRTHs go on from 1
  let seq = 1;
  const dbirths = Math.max(1, Math.floor(MESSAGES / 10));
  t = process.cpuUsage();
  for (let i = 0; i < dbirths; i++) {
    const r = router.route('spBv1.0/plant/DBIRTH/edge0/pump', births[seq]!, now);
    if (r.kind !== 'ok') throw new Error(`bench DBIRTH not written: ${JSON.stringify(r)}`);
    seq = (seq + 1) % 256;
  }
  samples.dbirth.push(cpuUs(t) / dbirths);
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `sparkplug bench: ${MESSAGES} NDATA × ${REPS} reps, ${NODES} nodes, ${METRICS} metrics by alias per message, ${data[1]!.length} bytes each (Node ${process.version})`,
);
console.log(
  `  protobuf decode   median ${median(samples.decode).toFixed(2)} µs CPU/message  (reps: ${samples.decode.map((x) => x.toFixed(2)).join(', ')})`,
);
console.log(
  `  route (decoder)   median ${median(samples.route).toFixed(2)} µs CPU/message  (reps: ${samples.route.map((x) => x.toFixed(2)).join(', ')})`,
);
console.log(
  `  DBIRTH ${DEVICE_METRICS} metrics median ${median(samples.dbirth).toFixed(2)} µs CPU/message  (${deviceBirth(1).length} bytes; reps: ${samples.dbirth.map((x) => x.toFixed(2)).join(', ')})`,
);

if (STORM > 0) {
  await storm(false, false); // warm-up: the JIT has not seen births yet
  await storm(true);
  await storm(false);
}

/** S nodes' NBIRTH + DBIRTH through a host with an on-disk store (or none): how long the event loop is blocked. */
async function storm(persist: boolean, print = true): Promise<void> {
  const dir = mkdtempSync(join(values['storm-dir'] ?? tmpdir(), 'eb-sparkplug-storm-'));
  try {
    const store = persist ? new SparkplugStore({ dir }) : undefined;
    const host = new SparkplugHost({
      stats: new SparkplugStats(),
      store,
      rebirth: false,
      rebirthMinIntervalMs: 60_000,
      maxNodes: STORM * 2,
      propertyTags: ['engUnit'],
    });
    host.start();
    const router = new Router({
      routes: parseRoutes(preset),
      sinkNames: ['influx', 'redis'],
      gatewayId: 'bench',
      gatewayTag: true,
      maxPayloadBytes: 1 << 20,
      sparkplug: host,
    });
    const nbirth = birth();
    const dbirth = deviceBirth(1);
    const messages: [string, Buffer][] = [];
    for (let n = 0; n < STORM; n++) {
      messages.push([`spBv1.0/plant/NBIRTH/storm${n}`, nbirth], [`spBv1.0/plant/DBIRTH/storm${n}/pump`, dbirth]);
    }
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    let longest = 0;
    let blocked = 0;
    for (let i = 0; i < messages.length; i += 16) {
      const t0 = performance.now();
      for (const [topic, payload] of messages.slice(i, i + 16)) {
        const r = router.route(topic, payload, Date.now());
        if (r.kind !== 'ok') throw new Error(`storm message not written: ${JSON.stringify(r)}`);
      }
      const took = performance.now() - t0;
      longest = Math.max(longest, took);
      blocked += took;
      await turn();
    }
    const routed = performance.now() - started;
    await host.stop();
    const persisted = performance.now() - started;
    delay.disable();
    if (!print) return;
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    console.log(
      `birth storm: ${STORM} nodes × (NBIRTH of ${METRICS + 1} + DBIRTH of ${DEVICE_METRICS} metrics), 16 per loop turn, ${persist ? `store in ${dir}` : 'no store (memory only)'}`,
    );
    console.log(
      `  event-loop delay max ${ms(delay.max)} ms, p99 ${ms(delay.percentile(99))} ms; longest turn ${longest.toFixed(1)} ms, ` +
        `blocked ${blocked.toFixed(0)} ms in all; routed in ${routed.toFixed(0)} ms, on disk after ${persisted.toFixed(0)} ms` +
        `; ${store === undefined ? 'no store' : `${store.writes} write(s), store errors ${host.stats.storeErrors}`}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
