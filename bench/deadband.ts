/**
 * Points and bytes saved by report by exception on a realistic sensor trace, through the real Router and deadband:
 *
 *   node bench/deadband.ts [--sensors N] [--hours H] [--seed S]
 *
 * N temperature sensors (default 20) publish `{"t":…,"ts":…}` once a second for H hours of simulated time (default
 * 3) on the default route. Each temperature moves 0.1 °C/min (the direction turns every 20–90 min), with Gaussian
 * noise of σ 0.02 °C, read to 0.01 °C as a sensor reports it. Every setting runs the same trace (seeded) twice:
 * the deadband on InfluxDB only (Redis keeps every value: its latest values stay exact) and on both sinks. Printed
 * per setting: field values in, written to InfluxDB, % saved, InfluxDB line-protocol bytes, spool bytes (records as
 * the disk spool encodes them, src/spool/disk/recordCodec.ts) against the run without a deadband, and the router's
 * CPU per message (process.cpuUsage around the routing of the pre-generated trace; a loaded machine makes it noisy).
 */
import { parseArgs } from 'node:util';
import { mulberry32 } from '../scripts/bulk/prng.ts';
import { Router } from '../src/pipeline/Router.ts';
import type { RouteResult } from '../src/pipeline/RouteResult.ts';
import type { DeadbandConfig } from '../src/route/Route.ts';
import { parseRoutes } from '../src/route/parseRoutes.ts';
import { encodedRecordBytes } from '../src/spool/disk/recordCodec.ts';
import type { Entry } from '../src/spool/Entry.ts';

const { values } = parseArgs({ options: { sensors: { type: 'string' }, hours: { type: 'string' }, seed: { type: 'string' } } });
const SENSORS = Number(values.sensors ?? 20);
const HOURS = Number(values.hours ?? 3);
const SEED = Number(values.seed ?? 1);
const T0 = Date.UTC(2026, 0, 15, 0, 0, 0);
const INFLUX = 0b01;

/** The trace: one payload per sensor per second, generated on the fly in the same order every time. */
function* trace(): Generator<[string, Buffer, number]> {
  const rnd = mulberry32(SEED); // a seeded generator, so every setting sees the same trace
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const sensors = Array.from({ length: SENSORS }, (_, i) => ({
    topic: `sensors/temp${String(i).padStart(3, '0')}/climate`,
    value: 18 + rnd() * 6,
    dir: rnd() < 0.5 ? -1 : 1,
    turnAt: Math.floor((20 + rnd() * 70) * 60),
  }));
  for (let s = 0; s < HOURS * 3600; s++) {
    const at = T0 + s * 1000;
    for (const x of sensors) {
      if (s >= x.turnAt) {
        x.dir = -x.dir;
        x.turnAt = s + Math.floor((20 + rnd() * 70) * 60);
      }
      x.value += (x.dir * 0.1) / 60;
      const read = Math.round((x.value + gauss() * 0.02) * 100) / 100;
      yield [x.topic, Buffer.from(`{"t":${read},"ts":${at}}`), at];
    }
  }
}

interface Totals {
  valuesIn: number;
  influxValues: number;
  influxBytes: number;
  spoolBytes: number;
  cpuUs: number;
}

function run(deadband: Partial<DeadbandConfig> | undefined, scope: 'influx' | 'all'): Totals {
  const route = {
    topic: 'sensors/{device}/{measurement}',
    ...(deadband === undefined ? {} : { deadband: scope === 'influx' ? { ...deadband, sinks: ['influx'] } : deadband }),
  };
  const router = new Router({
    routes: parseRoutes([route]),
    sinkNames: ['influx', 'redis'],
    gatewayId: 'bench',
    gatewayTag: true,
    maxPayloadBytes: 4096,
  });
  const totals: Totals = { valuesIn: 0, influxValues: 0, influxBytes: 0, spoolBytes: 0, cpuUs: 0 };
  const count = (e: Entry | undefined) => {
    if (e === undefined) return;
    totals.spoolBytes += encodedRecordBytes(e);
    if ((e.sinks & INFLUX) === 0) return;
    totals.influxValues += e.points; // one field per point in this trace
    totals.influxBytes += Buffer.byteLength(e.lines) + 1; // + the newline that joins lines in a write
  };
  const start = process.cpuUsage();
  let r: RouteResult;
  for (const [topic, payload, at] of TRACE) {
    totals.valuesIn++;
    r = router.route(topic, payload, at);
    if (r.kind === 'ok') {
      count(r.entry);
      count(r.also);
    } else if (r.kind !== 'suppressed') throw new Error(`bench message not routed: ${JSON.stringify(r)}`);
  }
  const used = process.cpuUsage(start);
  totals.cpuUs = (used.user + used.system) / totals.valuesIn; // the router (decode + deadband) and the counting here
  return totals;
}

// Made once: every run routes the same messages, and the CPU figure is the router's, not the generator's.
const TRACE = [...trace()];

const SETTINGS: [string, Partial<DeadbandConfig> | undefined][] = [
  ['none (every point)', undefined],
  ['exact repeats only', {}],
  ['absolute 0.05', { absolute: 0.05 }],
  ['absolute 0.05, heartbeat 5 min', { absolute: 0.05, maxIntervalMs: 300_000 }],
  ['absolute 0.2', { absolute: 0.2 }],
  ['absolute 0.2, heartbeat 5 min', { absolute: 0.2, maxIntervalMs: 300_000 }],
  ['absolute 0.2, heartbeat 5 min, writePrevious', { absolute: 0.2, maxIntervalMs: 300_000, writePrevious: true }],
  ['absolute 0.5', { absolute: 0.5 }],
  ['absolute 0.5, heartbeat 5 min', { absolute: 0.5, maxIntervalMs: 300_000 }],
  ['percent 0.5', { percent: 0.5 }],
  ['percent 0.5, heartbeat 5 min', { percent: 0.5, maxIntervalMs: 300_000 }],
];

const pct = (part: number, whole: number) => `${((1 - part / whole) * 100).toFixed(1)} %`;
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
console.log(
  `deadband bench: ${SENSORS} sensors × ${HOURS} h at 1 Hz = ${SENSORS * HOURS * 3600} messages per run, seed ${SEED} (Node ${process.version})`,
);
const base = run(undefined, 'all');
const rows: string[][] = [];
for (const [name, deadband] of SETTINGS) {
  const influxOnly = deadband === undefined ? base : run(deadband, 'influx');
  const all = deadband === undefined ? base : run(deadband, 'all');
  rows.push([
    name,
    String(influxOnly.valuesIn),
    String(influxOnly.influxValues),
    pct(influxOnly.influxValues, base.influxValues),
    `${mb(influxOnly.influxBytes)} (${pct(influxOnly.influxBytes, base.influxBytes)})`,
    `${mb(influxOnly.spoolBytes)} (${pct(influxOnly.spoolBytes, base.spoolBytes)})`,
    `${mb(all.spoolBytes)} (${pct(all.spoolBytes, base.spoolBytes)})`,
    influxOnly.cpuUs.toFixed(2),
  ]);
}
const head = [
  'setting',
  'values in',
  'to InfluxDB',
  'saved',
  'InfluxDB bytes (saved)',
  'spool, deadband on influx only',
  'spool, deadband on both sinks',
  'µs CPU/msg',
];
console.log(`| ${head.join(' | ')} |`);
console.log(`| ${head.map(() => '---').join(' | ')} |`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
