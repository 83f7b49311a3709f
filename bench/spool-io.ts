/**
 * The disk spool's own I/O at a steady rate, in-process (no MQTT, no sinks): fdatasyncs per second and bytes
 * written per message, in ack mode write (background flush) — what an SD card sees.
 *
 *   node bench/spool-io.ts [--rate 8000] [--seconds 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DiskSpool } from '../src/spool/disk/DiskSpool.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '8000' }, seconds: { type: 'string', default: '5' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-spool-io-'));
const spool = new DiskSpool({
  dir,
  sinks: ['influx', 'redis'],
  maxBytes: 1 << 30,
  overflow: 'dropOldest',
  ack: 'write',
  fsyncIntervalMs: 200,
  segmentBytes: 16 << 20,
  checkpointIntervalMs: 1000,
  logger: pino({ level: 'silent' }),
});
await spool.open();
const perTick = Math.max(1, Math.round(rate / 100));
const start = Date.now();
let n = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    for (let i = 0; i < perTick; i++) {
      const lines = `climate,device=dev${n % 100},gateway=gw h=40.${n % 10},t=21.5 ${(Date.now() * 1000 + (n % 1000)).toString()}`;
      spool.append({ lines, points: 1, sinks: 0b11, receivedAt: Date.now() });
      n++;
    }
    if (Date.now() - start < seconds * 1000) setTimeout(tick, 10);
    else resolve();
  };
  tick();
});
const elapsed = (Date.now() - start) / 1000;
const st = spool.stats();
console.log(
  `spool ack=write: ${n} messages in ${elapsed.toFixed(1)} s (${Math.round(n / elapsed)} msg/s): ` +
    `${(st.fsyncs! / elapsed).toFixed(1)} fdatasync/s, ${(st.bytesWritten! / n).toFixed(1)} bytes written per message`,
);
await spool.close();
fs.rmSync(dir, { recursive: true, force: true });
