/**
 * A long outage of one sink under steady load: does the gateway's memory stay flat while the backlog grows on
 * disk, and does the backlog drain afterwards while live data keeps flowing?
 *
 *   node scripts/outage-soak.ts [--rate 1000] [--outage-minutes 10] [--warmup 30] [--devices 100] [--node-options '…']
 *
 * Prints RSS samples (min / median / max before, during and after the outage), the peak backlog, the drain time
 * and rate, and checks that every acknowledged message landed in VictoriaMetrics and Redis.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, GatewayProcess, rssBytes, waitFor, withScenario } from '../test/harness/index.ts';
import { runSimulator } from './simulator.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    'outage-minutes': { type: 'string', default: '10' },
    warmup: { type: 'string', default: '30' },
    devices: { type: 'string', default: '100' },
    // The V8 limits docs/operations.md (the systemd unit) recommends for small devices; pass '' for Node's defaults.
    'node-options': { type: 'string', default: '--max-old-space-size=96 --max-semi-space-size=2' },
  },
});
const rate = Number(args.rate);
const outageMs = Number(args['outage-minutes']) * 60_000;
const warmupMs = Number(args.warmup) * 1000;
const devices = Number(args.devices);

const say = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

const rssOf = rssBytes;

function summary(xs: number[]): string {
  if (xs.length === 0) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  return `min ${mb(s[0]!)} / median ${mb(s[Math.floor(s.length / 2)]!)} / max ${mb(s.at(-1)!)} (${s.length} samples)`;
}

await withScenario('soak', say, async (scenario) => {
  const { mq, rd, vm } = await scenario.servers();
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-soak-'));
  scenario.defer(() => fs.rmSync(spoolDir, { recursive: true, force: true }));
  const gw = await GatewayProcess.start({
    env: {
      NODE_OPTIONS: args['node-options'],
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_HTTP_PORT: String(await freePort()),
      EDGEBRIDGE_LOG_LEVEL: 'warn',
      EDGEBRIDGE_REDIS_STREAM_MAX_LEN: '100000000',
      EDGEBRIDGE_INFLUX_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS: '5000',
      EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_MAX_MS: '5000',
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_INFLUX_URL: vm.url,
      EDGEBRIDGE_REDIS_URL: rd.url,
    },
  });
  scenario.defer(() => gw.stop());
  const pid = gw.pid!;
  say(`NODE_OPTIONS='${args['node-options']}'`);
  say(`gateway pid ${pid}, ${rate} msg/s from ${devices} devices, outage ${outageMs / 60_000} min, spool ${spoolDir}`);
  const sim = await runSimulator({ url: mq.url, devices, rate, qos: 1 });

  const phases: Record<'before' | 'outage' | 'drain' | 'after', number[]> = { before: [], outage: [], drain: [], after: [] };
  let phase: keyof typeof phases = 'before';
  let peakBacklogPoints = 0;
  let peakBacklogBytes = 0;
  const sampler = setInterval(() => {
    phases[phase].push(rssOf(pid));
  }, 5000);
  scenario.defer(() => clearInterval(sampler));

  await sleep(warmupMs);
  say(`warm: RSS ${mb(rssOf(pid))}; stopping VictoriaMetrics`);
  await vm.stop();
  phase = 'outage';
  const outageStart = Date.now();
  while (Date.now() - outageStart < outageMs) {
    await sleep(Math.min(30_000, outageMs - (Date.now() - outageStart)));
    const influx = await gw.sink('influx');
    peakBacklogPoints = Math.max(peakBacklogPoints, influx.backlog.points);
    peakBacklogBytes = Math.max(peakBacklogBytes, (influx.backlog as { bytes?: number }).bytes ?? 0);
    say(
      `outage ${Math.round((Date.now() - outageStart) / 1000)} s: RSS ${mb(rssOf(pid))}, influx backlog ${influx.backlog.points} points, redis written ${(await gw.sink('redis')).pointsWritten}`,
    );
  }
  say('restarting VictoriaMetrics');
  await vm.restart();
  phase = 'drain';
  const drainStart = Date.now();
  await waitFor(async () => (await gw.sink('influx')).backlog.points < rate * 2, { timeoutMs: 30 * 60_000, intervalMs: 1000 });
  const drainSeconds = (Date.now() - drainStart) / 1000;
  phase = 'after';
  say(`drained ${peakBacklogPoints} points in ${drainSeconds.toFixed(1)} s while live traffic continued`);
  await sleep(15_000);
  const simStats = await sim.stop();
  await waitFor(async () => (await gw.sink('influx')).backlog.points === 0 && (await gw.sink('redis')).backlog.points === 0, {
    timeoutMs: 120_000,
  });
  const landedInflux = await vm.countSamples('climate_seq');
  const redis = new Redis(rd.url);
  const landedRedis = await redis.xlen('eb:stream:{climate}');
  redis.disconnect();
  const status = await gw.status();
  say(`RSS before the outage: ${summary(phases.before)}`);
  say(`RSS during the outage: ${summary(phases.outage)}`);
  say(`RSS while draining:    ${summary(phases.drain)}`);
  say(`RSS after:             ${summary(phases.after)}`);
  const netDrain = peakBacklogPoints / drainSeconds;
  say(
    `peak backlog ${peakBacklogPoints} points (${mb(peakBacklogBytes)} on disk); drain ${drainSeconds.toFixed(1)} s: net ${Math.round(netDrain)} points/s, ` +
      `gross ${Math.round(netDrain + rate)} points/s = ${((netDrain + rate) / rate).toFixed(1)}× the live rate`,
  );
  say(
    `acknowledged by the broker ${simStats.acknowledged}; gateway received ${status.messages.received}; landed influx ${landedInflux}, redis ${landedRedis}; ` +
      `dropped ${status.sinks.map((s) => `${s.name}=${s.pointsDropped}`).join(' ')}`,
  );
  console.log(
    JSON.stringify({
      soak: {
        rate,
        outageMinutes: outageMs / 60_000,
        rss: phases,
        peakBacklogPoints,
        peakBacklogBytes,
        drainSeconds,
        acknowledged: simStats.acknowledged,
        landedInflux,
        landedRedis,
      },
    }),
  );
  process.exitCode = landedInflux >= simStats.acknowledged && landedRedis >= simStats.acknowledged ? 0 : 1;
});
