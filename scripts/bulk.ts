/**
 * `npm run bulk`: N random device messages (default 1 000 000) through a real Mosquitto, the built gateway, Redis and
 * VictoriaMetrics, and a check that every one of them ended where the generator says it must.
 *
 *   node scripts/bulk.ts [--messages N] [--seed S] [--publishers P] [--connections C] [--window W]
 *                        [--node-options '…'] (default: the NODE_OPTIONS of systemd/edgebridge.service; '' = none)
 *
 * Each message is made by a seeded generator (scripts/bulk/generateMessage.ts) together with its expected outcome:
 * written (how many points, to which sinks), rejected (which reason) or unrouted. The run then compares, exactly:
 * the gateway's /status counters with the expected ones (and with what was sent), the points in VictoriaMetrics
 * and in the Redis streams with the points each sink wrote, and the dead letters that arrived on the dead-letter
 * topic with the rejections (published + dropped = rejected). It samples the gateway's RSS every 500 ms, prints a
 * table and one `bulk-json {...}` line, and exits 1 when anything does not add up or the gateway crashed.
 *
 * Importable: `runBulk(options)` (the short variant in test/integration/bulk.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Fleet, GatewayProcess, unitNodeOptions, withScenario, type FleetResult, type GatewayStatus } from '../test/harness/index.ts';
import { BULK_MESSAGES } from './bulk/bulkMessages.ts';
import { bulkChecks, type Check } from './bulk/bulkChecks.ts';
import { bulkReport } from './bulk/bulkReport.ts';
import { DeadLetterWatch } from './bulk/DeadLetterWatch.ts';
import { BULK_ROUTES, BULK_SUBSCRIPTIONS, MAX_PAYLOAD_BYTES } from './bulk/generateMessage.ts';
import { RssSampler } from './bulk/RssSampler.ts';
import { waitCount, waitSettled } from './bulk/settle.ts';
import { countRedisStreams, countVictoriaMetrics, victoriaMetricsInvalidRows } from './bulk/sinkCounts.ts';
import { addTally, emptyTally, type Tally } from './bulk/Tally.ts';

export type { Check } from './bulk/bulkChecks.ts';
export { unitNodeOptions } from '../test/harness/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GATEWAY_ID = 'bulk';
const DEAD_LETTER_TOPIC = `edgebridge/${GATEWAY_ID}/deadletter`;

export interface BulkOptions {
  messages: number;
  seed: number;
  /** Publisher processes (default 2), each with `connections` MQTT connections (default 2). */
  publishers?: number;
  connections?: number;
  /** Unacknowledged QoS 1 publishes per connection (default 500). */
  window?: number;
  /** NODE_OPTIONS of the gateway; default: those of systemd/edgebridge.service (the V8 heap capped as deployed). */
  nodeOptions?: string;
  /** More EDGEBRIDGE_* settings for the gateway (experiments). */
  gatewayEnv?: Record<string, string>;
  /** Give up when a counter has not moved for this long (default 60 s). */
  stallMs?: number;
  log?: (line: string) => void;
}

export interface BulkResult {
  ok: boolean;
  checks: Check[];
  expected: Tally;
  status: GatewayStatus['messages'] & { deadLettered: number; deadLetterDropped: number };
  deadLettersReceived: number;
  victoriaMetricsPoints: number;
  redisStreamEntries: number;
  peakRssBytes: number;
  finalRssBytes: number;
  publishMs: number;
  elapsedMs: number;
  messagesPerSecond: number;
  gatewayExit: { code: number | null; signal: string | null };
  table: string;
  json: string;
}

export async function runBulk(options: BulkOptions): Promise<BulkResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const n = options.messages;
  const stallMs = options.stallMs ?? 60_000;
  const nodeOptions = options.nodeOptions ?? unitNodeOptions();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  return withScenario('bulk', log, async (scenario) => {
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-bulk-spool-'));
    scenario.defer(() => fs.rmSync(spoolDir, { recursive: true, force: true }));
    const { mq, rd, vm } = await scenario.servers({ victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] } });
    const gateway = await GatewayProcess.start({
      env: { NODE_OPTIONS: nodeOptions, ...gatewayEnv(n, spoolDir, mq.url, vm.url, rd.url), ...options.gatewayEnv },
    });
    scenario.defer(() => gateway.stop());
    const watch = new DeadLetterWatch();
    scenario.defer(() => watch.stop());
    await watch.start(mq.url, DEAD_LETTER_TOPIC);
    const rss = new RssSampler(gateway.pid!, 500);
    rss.start();
    const status = async (): Promise<GatewayStatus> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await gateway.status();
        } catch (err) {
          if (attempt >= 10 || gateway.pid === undefined) throw err;
        }
      }
    };

    // Publish.
    const t0 = performance.now();
    const published = await publishAll(mq.url, options, log, async () => {
      const s = await status();
      return `received ${s.messages.received}/${n}, gateway RSS ${mb(rss.lastBytes)} MB`;
    });
    const publishMs = performance.now() - t0;
    const expected = emptyTally();
    for (const t of published.summaries) addTally(expected, t as Tally);
    log(`published ${published.acked}/${n} (QoS 1, ${published.failed} failed) in ${(publishMs / 1000).toFixed(1)} s`);

    // Drain: everything received, every sink caught up, every dead letter accounted for.
    await waitSettled('gateway received all', stallMs, log, async () => {
      const s = await status();
      return { done: s.messages.received >= n, progress: s.messages.received };
    });
    await waitSettled('sinks drained', stallMs, log, async () => {
      const s = await status();
      const influx = s.sinks.find((k) => k.name === 'influx')!;
      const redis = s.sinks.find((k) => k.name === 'redis')!;
      const done =
        influx.backlog.points === 0 &&
        redis.backlog.points === 0 &&
        influx.pointsWritten >= expected.points.influx &&
        redis.pointsWritten >= expected.points.redis;
      return { done, progress: influx.pointsWritten + redis.pointsWritten };
    });
    const elapsedMs = performance.now() - t0;
    await waitSettled('dead letters arrived', 15_000, log, async () => {
      const m = (await status()).messages;
      return { done: m.deadLettered + m.deadLetterDropped >= m.rejected && watch.received >= m.deadLettered, progress: watch.received };
    });
    const [victoriaMetricsPoints, redisStreams] = await Promise.all([
      waitCount(() => countVictoriaMetrics(vm.url), expected.points.influx, 30_000),
      countRedisStreams(rd.url, 'eb:'),
    ]);
    const vmInvalidRows = await victoriaMetricsInvalidRows(vm.url);
    const final = await status();
    const metricsText = await (await gateway.get('/metrics')).text();
    const externalBytes = Number(/^edgebridge_nodejs_external_memory_bytes (\S+)/m.exec(metricsText)?.[1] ?? 0);
    rss.sample();
    rss.stop();
    const aliveAtEnd = await Promise.race([gateway.exited().then(() => false), sleep(0).then(() => true)]);
    const exit = await gateway.stop();
    const m = final.messages;
    const checks = bulkChecks({
      n,
      acked: published.acked,
      expected,
      final,
      victoriaMetricsPoints,
      vmInvalidRows,
      redisStreamEntries: redisStreams.entries,
      watch,
      aliveAtEnd,
      exitCode: exit.code,
    });

    const ok = checks.every((c) => c.ok);
    const messagesPerSecond = Math.round(n / (elapsedMs / 1000));
    const { json, table } = bulkReport({
      seed: options.seed,
      nodeOptions,
      n,
      final,
      victoriaMetricsPoints,
      redisStreamEntries: redisStreams.entries,
      watch,
      rss,
      externalBytes,
      publishMs,
      elapsedMs,
      expected,
      checks,
      logs: gateway.logs(),
    });
    return {
      ok,
      checks,
      expected,
      status: m,
      deadLettersReceived: watch.received,
      victoriaMetricsPoints,
      redisStreamEntries: redisStreams.entries,
      peakRssBytes: rss.peakBytes,
      finalRssBytes: rss.lastBytes,
      publishMs,
      elapsedMs,
      messagesPerSecond,
      gatewayExit: { code: exit.code, signal: exit.signal },
      table,
      json,
    };
  });
}

function gatewayEnv(n: number, spoolDir: string, mqttUrl: string, influxUrl: string, redisUrl: string): Record<string, string> {
  return {
    EDGEBRIDGE_GATEWAY_ID: GATEWAY_ID,
    EDGEBRIDGE_LOG_LEVEL: 'warn',
    EDGEBRIDGE_SPOOL_DIR: spoolDir,
    EDGEBRIDGE_MQTT_URL: mqttUrl,
    EDGEBRIDGE_MQTT_SUBSCRIPTIONS: JSON.stringify(BULK_SUBSCRIPTIONS.map((topic) => ({ topic, qos: 1 }))),
    EDGEBRIDGE_MQTT_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES),
    EDGEBRIDGE_ROUTES: JSON.stringify(BULK_ROUTES),
    EDGEBRIDGE_INFLUX_URL: influxUrl,
    EDGEBRIDGE_INFLUX_TOKEN: 'bulk',
    EDGEBRIDGE_INFLUX_ORG: 'bulk',
    EDGEBRIDGE_INFLUX_BUCKET: 'bulk',
    EDGEBRIDGE_REDIS_URL: redisUrl,
    // Streams must hold every point to be counted (MAXLEN ~ trims otherwise).
    EDGEBRIDGE_REDIS_STREAM_MAX_LEN: String(Math.max(100_000, 2 * n)),
  };
}

/** The publisher fleet with the bulk generator: started together, progress logged every 5 s. */
async function publishAll(
  url: string,
  options: BulkOptions,
  log: (line: string) => void,
  progress: () => Promise<string>,
): Promise<FleetResult> {
  const fleet = await Fleet.launch({
    url,
    qos: 1,
    children: options.publishers ?? 2,
    connectionsPerChild: options.connections ?? 2,
    window: options.window ?? 500,
    clientIdPrefix: 'bulk-pub',
    count: options.messages,
    generator: BULK_MESSAGES,
    generatorOptions: () => ({ seed: options.seed }),
  });
  try {
    fleet.start();
    const ticker = setInterval(
      () =>
        void progress().then(
          (p) => log(`… ${p}`),
          () => undefined,
        ),
      5000,
    );
    try {
      return await fleet.done();
    } finally {
      clearInterval(ticker);
    }
  } finally {
    fleet.kill();
  }
}

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      publishers: { type: 'string', default: '2' },
      connections: { type: 'string', default: '2' },
      window: { type: 'string', default: '500' },
      'node-options': { type: 'string' },
    },
  });
  const result = await runBulk({
    messages: Number(values.messages),
    seed: Number(values.seed),
    publishers: Number(values.publishers),
    connections: Number(values.connections),
    window: Number(values.window),
    ...(values['node-options'] !== undefined ? { nodeOptions: values['node-options'] } : {}),
  });
  console.log(result.table);
  console.log(result.json);
  process.exitCode = result.ok ? 0 : 1;
}
