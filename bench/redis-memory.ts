/**
 * Redis memory per stream entry, measured end to end: a private Mosquitto and redis-server, the built gateway
 * (`dist/main.js`, Redis sink only), the bench's payload (`{"t","h","p","ts"}` from 100 devices → tags device and
 * gateway, three fields). Prints `INFO memory` used_memory before and after, `MEMORY USAGE` of the stream, and
 * the cost per entry, for the sizing guide (docs/sizing.md).
 *
 *   npm run build && node bench/redis-memory.ts [--messages 100000]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { connectPublisher, GatewayProcess, startMosquitto, startRedis, waitFor } from '../test/harness/index.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' } } });
const N = Number(values.messages);
const DEVICES = 100;

const [mq, rd] = await Promise.all([startMosquitto(), startRedis()]);
const redis = new Redis(rd.url);
let gw: GatewayProcess | undefined;
try {
  const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  gw = await GatewayProcess.start({
    env: {
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_REDIS_URL: rd.url,
      EDGEBRIDGE_INFLUX_ENABLED: 'false',
      EDGEBRIDGE_GATEWAY_ID: 'gw-site-01',
      EDGEBRIDGE_REDIS_STREAM_MAX_LEN: String(N * 10), // no trimming while measuring
      EDGEBRIDGE_LOG_LEVEL: 'warn',
    },
  });
  const before = await usedMemory();
  const pub = await connectPublisher(mq.url);
  const start = Date.now();
  function* messages() {
    for (let i = 0; i < N; i++) {
      // Sensor-like values (two decimals, not small integers, which Redis would store more compactly).
      const payload = {
        t: +(18 + ((i * 7919) % 1000) / 100).toFixed(2),
        h: +(35 + ((i * 104729) % 3000) / 100).toFixed(2),
        p: +(990 + ((i * 31) % 400) / 10).toFixed(1),
        ts: start + i,
      };
      yield { topic: `sensors/dev${i % DEVICES}/climate`, payload: JSON.stringify(payload), qos: 1 as const };
    }
  }
  await pub.publishMany(messages(), { window: 500 });
  await pub.end();
  await waitFor(async () => (await redis.xlen('eb:stream:{climate}')) >= N, { timeoutMs: 120_000, intervalMs: 500 });
  const after = await usedMemory();
  const streamBytes = Number(await redis.call('MEMORY', 'USAGE', 'eb:stream:{climate}', 'SAMPLES', '0'));
  const [, sample] = (await redis.xrange('eb:stream:{climate}', '-', '+', 'COUNT', 1))[0]!;
  const info = await redis.info('memory');
  const pick = (k: string) => new RegExp(`${k}:(\\S+)`).exec(info)?.[1];
  const result = {
    entries: N,
    entryFields: sample,
    usedMemoryDeltaBytes: after - before,
    bytesPerEntryUsedMemory: +((after - before) / N).toFixed(1),
    streamMemoryUsageBytes: streamBytes,
    bytesPerEntryStream: +(streamBytes / N).toFixed(1),
    usedMemoryHuman: pick('used_memory_human'),
    allocator: pick('mem_allocator'),
    redisVersion: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1],
  };
  console.log(
    `redis ${result.redisVersion}: ${N} stream entries (${sample.length / 2} field/value pairs: ${sample.filter((_, i) => i % 2 === 0).join(', ')}): ` +
      `used_memory +${(result.usedMemoryDeltaBytes / 1e6).toFixed(1)} MB = ${result.bytesPerEntryUsedMemory} B/entry; ` +
      `MEMORY USAGE of the stream ${(streamBytes / 1e6).toFixed(1)} MB = ${result.bytesPerEntryStream} B/entry`,
  );
  console.log(JSON.stringify(result));
} finally {
  redis.disconnect();
  await gw?.stop();
  await Promise.all([mq.destroy(), rd.destroy()]);
}
