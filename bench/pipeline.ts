/**
 * In-process cost of each stage of the gateway's hot path, per message, with the real parts and no network:
 *
 *   node bench/pipeline.ts [--messages N] [--reps R] [--devices D]
 *
 * route (decode + line protocol) → disk spool append (write(2) into a temp dir) → two cursors read the batch
 * back → the InfluxDB request body gzipped (level 1, as the sink does on the thread pool) and the Redis call arguments (RedisBatchBuilder). Payloads and topics are
 * the bench fleet's (`bench/climateMessages.ts`): 100 devices unless --devices says otherwise, `{"t":…,"h":…,"p":1013.2,"ts":…}`. Prints the median µs per
 * message of each stage over R repetitions. A guide for profiling work, not a target: `npm run bench` measures the
 * whole gateway against the MQTT ceiling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../src/config/loadConfig.ts';
import type { RedisSinkConfig } from '../src/config/Config.ts';
import { Router } from '../src/pipeline/Router.ts';
import { DiskSpool } from '../src/spool/disk/DiskSpool.ts';
import { RedisBatchBuilder } from '../src/sinks/redis/RedisBatchBuilder.ts';
import type { Entry } from '../src/spool/Entry.ts';
import { pino } from 'pino';

const { values } = parseArgs({ options: { messages: { type: 'string' }, reps: { type: 'string' }, devices: { type: 'string' } } });
const MESSAGES = Number(values.messages ?? 100_000);
const REPS = Number(values.reps ?? 5);
const DEVICES = Number(values.devices ?? 100);

const config = loadConfig({ argv: [], env: { EDGEBRIDGE_GATEWAY_ID: 'bench' }, hostname: 'bench' });
const sinkNames = config.sinks.map((s) => s.name);
const redisConfig = config.sinks.find((s) => s.type === 'redis') as RedisSinkConfig;
const router = new Router({ routes: config.routes, sinkNames, gatewayId: 'bench', gatewayTag: true, maxPayloadBytes: 65536 });
const builder = new RedisBatchBuilder(redisConfig);

const topics = Array.from({ length: DEVICES }, (_, d) => `sensors/dev${d + 1}/climate`);
const payloads = Array.from({ length: 1000 }, (_, n) =>
  Buffer.from(`{"t":${20 + (n % 100) / 10},"h":${40 + (n % 37) / 10},"p":1013.2,"ts":${1_700_000_000_000 + n}}`),
);

const stages = ['route', 'append', 'read', 'influx gzip', 'redis build'] as const;
type Stage = (typeof stages)[number];
const samples: Record<Stage, number[]> = { route: [], append: [], read: [], 'influx gzip': [], 'redis build': [] };

async function rep(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-pipeline-'));
  const spool = new DiskSpool({ ...config.spool, dir, sinks: sinkNames, logger: pino({ level: 'silent' }) });
  await spool.open();
  try {
    const entries: Entry[] = new Array(MESSAGES);
    let t = process.hrtime.bigint();
    const now = Date.now();
    for (let i = 0; i < MESSAGES; i++) {
      const r = router.route(topics[i % DEVICES]!, payloads[i % 1000]!, now);
      if (r.kind !== 'ok') throw new Error(`bench message not routed: ${JSON.stringify(r)}`);
      entries[i] = r.entry;
    }
    samples.route.push(perMessage(t));

    t = process.hrtime.bigint();
    for (let i = 0; i < MESSAGES; i++) spool.append(entries[i]!);
    samples.append.push(perMessage(t));

    const limits = { maxPoints: 5000, maxBytes: 1 << 20 };
    const batches = [];
    t = process.hrtime.bigint();
    for (const sink of [0, 1]) {
      const cursor = spool.cursor(sink);
      for (let b = cursor.read(limits); b !== undefined; b = cursor.read(limits)) {
        cursor.commit(b);
        if (sink === 0) batches.push(b);
      }
    }
    samples.read.push(perMessage(t));

    let bytes = 0;
    t = process.hrtime.bigint();
    for (const b of batches) bytes += gzipSync(b.text, { level: 1 }).length;
    samples['influx gzip'].push(perMessage(t));

    t = process.hrtime.bigint();
    for (const b of batches) bytes += builder.build(b).argv[3]!.length;
    samples['redis build'].push(perMessage(t));
    if (bytes === 0) throw new Error('nothing built');
  } finally {
    await spool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function perMessage(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000 / MESSAGES;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

await rep(); // warm-up: JIT and page cache
for (const s of stages) samples[s].length = 0;
for (let r = 0; r < REPS; r++) await rep();
let total = 0;
process.stdout.write(`pipeline: ${MESSAGES} messages × ${REPS} reps, ${DEVICES} devices, Node ${process.version}\n`);
for (const s of stages) {
  const m = median(samples[s]);
  total += m;
  process.stdout.write(`  ${s.padEnd(12)} ${m.toFixed(2).padStart(6)} µs/msg\n`);
}
process.stdout.write(`  ${'total'.padEnd(12)} ${total.toFixed(2).padStart(6)} µs/msg\n`);
process.stdout.write(
  `${JSON.stringify({ bench: 'pipeline', messages: MESSAGES, reps: REPS, usPerMessage: Object.fromEntries(stages.map((s) => [s, Math.round(median(samples[s]) * 100) / 100])) })}\n`,
);
