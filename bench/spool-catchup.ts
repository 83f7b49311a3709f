/**
 * How long a sink's catch-up reads hold the event loop: a backlog is written to the disk spool, the spool is
 * reopened (so nothing is in the recent-records window and every read goes to the files), then one cursor drains it
 * with the SinkWorker's catch-up limits (4 × 5 000 points, 4 × 1 MiB), yielding to the event loop between reads as
 * the worker does. Prints the longest single read(), the longest event-loop delay (perf_hooks), and the drain rate.
 *
 *   node bench/spool-catchup.ts [--messages 400000] [--reps 3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DiskSpool } from '../src/spool/disk/DiskSpool.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '400000' }, reps: { type: 'string', default: '3' } } });
const MESSAGES = Number(values.messages);
const REPS = Number(values.reps);
const LIMITS = { maxPoints: 20_000, maxBytes: 4 << 20 };

function options(dir: string): ConstructorParameters<typeof DiskSpool>[0] {
  return {
    dir,
    sinks: ['influx', 'redis'],
    maxBytes: 1 << 30,
    overflow: 'dropOldest',
    ack: 'write',
    fsyncIntervalMs: 200,
    segmentBytes: 16 << 20,
    checkpointIntervalMs: 1000,
    logger: pino({ level: 'silent' }),
  };
}

async function rep(): Promise<{
  firstReadMs: number;
  medianReadMs: number;
  maxReadMs: number;
  maxDelayMs: number;
  p99DelayMs: number;
  pointsPerSecond: number;
  reads: number;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-spool-catchup-'));
  try {
    const writer = new DiskSpool(options(dir));
    await writer.open();
    for (let n = 0; n < MESSAGES; n++) {
      const lines = `climate,device=dev${n % 100},gateway=gw h=40.${n % 10},p=1013.2,t=21.5 ${(1_700_000_000_000_000 + n).toString()}`;
      writer.append({ lines, points: 1, sinks: 0b11, receivedAt: 1_700_000_000_000 + n });
      if (n % 500 === 499) writer.flush();
    }
    await writer.close();

    const spool = new DiskSpool(options(dir));
    await spool.open();
    const cursor = spool.cursor(0);
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    let maxReadMs = 0;
    const times: number[] = [];
    let reads = 0;
    let points = 0;
    const started = performance.now();
    for (;;) {
      const t = performance.now();
      const batch = cursor.read(LIMITS);
      const took = performance.now() - t;
      times.push(took);
      maxReadMs = Math.max(maxReadMs, took);
      if (batch === undefined) break;
      reads++;
      points += batch.points;
      cursor.commit(batch);
      await new Promise((resolve) => setImmediate(resolve)); // the sink's write: the loop turns in between
    }
    const seconds = (performance.now() - started) / 1000;
    h.disable();
    await spool.close();
    if (points !== MESSAGES) throw new Error(`drained ${points} of ${MESSAGES} points`);
    const sorted = [...times].sort((a, b) => a - b);
    const medianReadMs = sorted[Math.floor(sorted.length / 2)]!;
    const firstReadMs = times[0]!;
    return {
      firstReadMs,
      medianReadMs,
      maxReadMs,
      maxDelayMs: h.max / 1e6,
      p99DelayMs: h.percentile(99) / 1e6,
      pointsPerSecond: points / seconds,
      reads,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (let r = 0; r < REPS; r++) {
  const x = await rep();
  console.log(
    `catch-up read of ${MESSAGES} records: ${x.reads} reads, read ms first ${x.firstReadMs.toFixed(1)} median ${x.medianReadMs.toFixed(1)} max ${x.maxReadMs.toFixed(1)}, ` +
      `event-loop delay max ${x.maxDelayMs.toFixed(1)} ms p99 ${x.p99DelayMs.toFixed(1)} ms, ${Math.round(x.pointsPerSecond)} points/s`,
  );
}
