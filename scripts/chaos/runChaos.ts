/**
 * One chaos run: N sequenced QoS 1 messages through a real Mosquitto while the fault schedule kills and restarts
 * the gateway, Redis, VictoriaMetrics and Mosquitto; then every seq is looked for in both sinks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, GatewayProcess, waitFor, withScenario } from '../../test/harness/index.ts';
import { mulberry32 } from '../bulk/prng.ts';
import { injectFaults, planFaults } from './faults.ts';
import { GatewaySampler } from './GatewaySampler.ts';
import { lossReport } from './lossReport.ts';
import { newPublishShared, SequencedPublisher } from './SequencedPublisher.ts';
import { readBack } from './sinkSeqs.ts';
import { FAULT_KINDS, type AckMode, type ChaosOptions, type ChaosResult, type FaultRecord } from './types.ts';

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)}MB`;

function gatewayEnv(
  urls: { mqtt: string; influx: string; redis: string },
  spoolDir: string,
  httpPort: number,
  ack: AckMode,
  clientId: string,
): Record<string, string> {
  const env: Record<string, string> = {
    EDGEBRIDGE_MQTT_URL: urls.mqtt,
    EDGEBRIDGE_INFLUX_URL: urls.influx,
    EDGEBRIDGE_REDIS_URL: urls.redis,
    EDGEBRIDGE_SPOOL_DIR: spoolDir,
    EDGEBRIDGE_HTTP_PORT: String(httpPort),
    EDGEBRIDGE_SPOOL_ACK: ack,
    EDGEBRIDGE_MQTT_CLIENT_ID: clientId,
    EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200',
    EDGEBRIDGE_MQTT_RECONNECT_MAX_MS: '2000',
    EDGEBRIDGE_REDIS_STREAM_MAX_LEN: '100000000',
    EDGEBRIDGE_LOG_LEVEL: 'warn',
    EDGEBRIDGE_GATEWAY_ID: 'chaos',
  };
  for (const sink of ['INFLUX', 'REDIS']) {
    env[`EDGEBRIDGE_${sink}_RESILIENCE_RETRY_INITIAL_MS`] = '200';
    env[`EDGEBRIDGE_${sink}_RESILIENCE_RETRY_MAX_MS`] = '2000';
    env[`EDGEBRIDGE_${sink}_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS`] = '3000';
    env[`EDGEBRIDGE_${sink}_RESILIENCE_TIMEOUT_MS`] = '5000';
  }
  return env;
}

/** Waits until the gateway has received nothing new for 3 s and both backlogs are empty (a warning on timeout). */
async function drain(gw: () => GatewayProcess, timeoutMs: number, log: (line: string) => void): Promise<void> {
  let lastReceived = -1;
  let stableSince = Date.now();
  let lastStatus = '';
  try {
    await waitFor(
      async () => {
        const st = await gw().status();
        lastStatus = JSON.stringify({ messages: st.messages, sinks: st.sinks.map((s) => ({ name: s.name, backlog: s.backlog })) });
        if (st.messages.received !== lastReceived) {
          lastReceived = st.messages.received;
          stableSince = Date.now();
        }
        return (
          Date.now() - stableSince >= 3000 && st.messages.received >= st.messages.accepted && st.sinks.every((s) => s.backlog.points === 0)
        );
      },
      { timeoutMs, intervalMs: 250, message: () => `gateway did not drain; last status ${lastStatus}` },
    );
  } catch (err) {
    log(`WARNING ${(err as Error).message}`);
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const n = opts.messages;
  const devices = Math.max(1, opts.devices);
  const publishers = Math.max(1, Math.min(opts.publishers, devices));
  const faultsEach = Math.max(0, opts.faultsEach);
  const seed = opts.seed ?? 1;
  const rnd = mulberry32(seed ^ (opts.ack === 'fsync' ? 0x5f5f : 0));
  const rate = opts.ratePerSecond ?? Math.max(1, Math.ceil(n / Math.max(12, 20 * faultsEach)));
  const plannedPublishMs = (n / rate) * 1000;
  const t0 = Date.now();
  const since = (): number => Date.now() - t0;
  const stamp = (): string => `${new Date().toISOString()} +${(since() / 1000).toFixed(1)}s`;
  const log = (line: string): void => opts.log?.(`[chaos ${opts.ack}] ${stamp()} ${line}`);

  return withScenario('chaos', log, async (scenario) => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-chaos-'));
    // Kept only with EDGEBRIDGE_KEEP_TMP=1 (for post-mortems with the spool and the servers' logs).
    scenario.defer(() => process.env.EDGEBRIDGE_KEEP_TMP !== '1' && fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 }));
    const spoolDir = path.join(runDir, 'spool');
    fs.mkdirSync(spoolDir);
    const { mq, rd, vm } = await scenario.servers({
      mosquitto: { persistence: true },
      redis: { appendonly: true },
      victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] },
    });
    const httpPort = await freePort();
    const env = gatewayEnv(
      { mqtt: mq.url, influx: vm.url, redis: rd.url },
      spoolDir,
      httpPort,
      opts.ack,
      `edgebridge-chaos-${process.pid}-${seed}-${opts.ack}`,
    );
    const gateways: GatewayProcess[] = [];
    scenario.defer(async () => {
      for (const [i, g] of gateways.entries()) {
        g.signal('SIGKILL');
        await g.exited();
        fs.writeFileSync(
          path.join(runDir, `gateway-${i + 1}-pid${g.pid}.log`),
          g.stdout + (g.stderr ? `\n--- stderr ---\n${g.stderr}` : ''),
        );
      }
    });
    const startGateway = async (waitUntil: 'ready' | 'alive'): Promise<GatewayProcess> => {
      const g = await GatewayProcess.start({ env, waitUntil, timeoutMs: 30_000 });
      gateways.push(g);
      return g;
    };
    let gw = await startGateway('ready');
    log(
      `servers up: mqtt ${mq.url} redis ${rd.url} vm ${vm.url}; gateway pid ${gw.pid} http ${httpPort}; ` +
        `n=${n} devices=${devices} publishers=${publishers} rate=${rate}/s seed=${seed}`,
    );
    const sampler = new GatewaySampler(() => gw);
    sampler.start();
    scenario.defer(() => sampler.stop());

    // ---- publishers ----
    const shared = newPublishShared(n, devices, t0);
    const owned: number[][] = Array.from({ length: publishers }, () => []);
    for (let seq = 0; seq < n; seq++) owned[(seq % devices) % publishers]!.push(seq);
    const pubs = owned.map(
      (seqs, p) =>
        new SequencedPublisher(
          mq.url,
          `chaos-pub-${process.pid}-${opts.ack}-${p}`,
          shared,
          Int32Array.from(seqs),
          rate * (seqs.length / n),
        ),
    );
    scenario.defer(() => {
      for (const p of pubs) p.stop();
    });
    const publishStart = since();
    const publishing = Promise.all(pubs.map((p) => p.run())).then(() => since());
    const progress = setInterval(() => {
      log(`published: acked ${shared.acked}/${n} publishes ${shared.publishes} resends ${shared.resends}; ${sampler.counters}`);
    }, 10_000);
    scenario.defer(() => clearInterval(progress));

    // ---- fault scheduler (serialized) ----
    const faults: FaultRecord[] = [];
    const schedule = planFaults(rnd, faultsEach, publishStart + 0.05 * plannedPublishMs, 0.8 * plannedPublishMs);
    const targets = { mq, rd, vm, gateway: () => gw, since, log, beforeGatewayKill: (old: GatewayProcess) => sampler.sampleIo(old) };
    const injecting = injectFaults({ ...targets, restartGateway: async () => (gw = await startGateway('alive')) }, rnd, schedule, faults);

    const publishEnd = await publishing;
    log(`publishing done: ${shared.acked}/${n} acknowledged by the broker, ${shared.publishes} publishes, ${shared.resends} resends`);
    await injecting;
    for (const p of pubs) p.stop();

    // ---- drain, then verify ----
    const drainStart = since();
    await drain(() => gw, opts.drainTimeoutMs ?? Math.max(120_000, (n / 500) * 1000), log);
    clearInterval(progress);
    sampler.sampleIo(gw);
    const { values, influx, redis } = await readBack(vm, rd.url, n, log);
    const drainMs = since() - drainStart;
    const losses = lossReport(values, shared, faults, gateways);
    for (const line of losses) log(`LOSS ${line}`);

    const diskWriteBytes = sampler.diskWriteBytes;
    const diskBytesPerMsg = Math.round(diskWriteBytes / Math.max(1, n));
    const faultCounts = FAULT_KINDS.map((k) => `${k}:${faults.filter((f) => f.kind === k).length}`).join(',');
    const elapsedMs = since();
    const ok = influx.lost === 0 && redis.lost === 0 && shared.acked === n;
    const { peakRss, peakBacklog } = sampler;
    const summary =
      `chaos ack=${opts.ack} sent=${shared.acked} influx=${influx.landed} redis=${redis.landed} ` +
      `lost=${influx.lost}/${redis.lost} duplicates=${influx.duplicates}/${redis.duplicates} ` +
      `peakRss=${mb(peakRss)} peakBacklog=${mb(peakBacklog)} diskBytesPerMsg=${diskBytesPerMsg} ` +
      `faults=${faultCounts} elapsed=${Math.round(elapsedMs / 1000)}s`;
    const counts = {
      sent: shared.acked,
      publishes: shared.publishes,
      resends: shared.resends,
      influx,
      redis,
      peakRssBytes: peakRss,
      peakBacklogBytes: peakBacklog,
    };
    const json = JSON.stringify({
      ack: opts.ack,
      ok,
      messages: n,
      devices,
      publishers,
      rate,
      seed,
      ...counts,
      diskWriteBytes,
      diskBytesPerMsg,
      gatewayStarts: gateways.length,
      faults,
      elapsedMs,
      publishMs: publishEnd - publishStart,
      drainMs,
    });
    return {
      ok,
      summary,
      json,
      ack: opts.ack,
      ...counts,
      diskBytesPerMsg,
      diskWriteBytes,
      gatewayStarts: gateways.length,
      faults,
      elapsedMs,
      publishMs: publishEnd - publishStart,
      drainMs,
      lossReport: losses,
    };
  });
}
