/**
 * Broker restarts under QoS 1 load: a real Mosquitto (with or without persistence) is stopped and started again
 * by a plan of outages, some of them short and close together (flapping), while a publisher sends sequenced QoS 1
 * messages and the built gateway, with its default reconnect schedule, writes them to VictoriaMetrics. Measures, per
 * restart, how long after the broker listened again the gateway was connected and subscribed, and counts what the
 * broker dropped and what the gateway said about it (session losses, the warning, /status).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, GatewayProcess, median, waitFor, withScenario } from '../../test/harness/index.ts';
import type { GatewayStatus } from '../../test/harness/index.ts';
import { newPublishShared, SequencedPublisher } from '../chaos/SequencedPublisher.ts';
import { influxSeqs, verdict } from '../chaos/sinkSeqs.ts';

/** One restart: the broker is down for `downMs`, then listens and stays up for `upMs`. */
export interface Restart {
  readonly downMs: number;
  readonly upMs: number;
  /** Shown in the report: "single", "flap", "after flapping"… */
  readonly label: string;
}

export interface BrokerRestartOptions {
  readonly persistence: boolean;
  readonly plan: readonly Restart[];
  /** QoS 1 messages per second during the whole run. */
  readonly ratePerSecond: number;
  /** More EDGEBRIDGE_* variables for the gateway (e.g. a log level). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface RestartRecord extends Restart {
  /** ms from the broker listening again (first TCP connect that succeeded, polled every 5 ms) to the gateway's
   * `mqtt connected` (CONNACK); undefined if it did not connect before the next stop. */
  readonly connectedAfterMs: number | undefined;
  /** … to `mqtt subscribed` (every SUBACK). With a persistent session present the broker delivers from the CONNACK
   * on, and its SUBACKs queue behind what it held for the gateway: then this is later than messages flow. */
  readonly subscribedAfterMs: number | undefined;
  /** When messages flow again: the CONNACK if the session was present (its subscriptions with it), else the SUBACKs. */
  readonly backAfterMs: number | undefined;
  /** The CONNACK's sessionPresent on that reconnect. */
  readonly sessionPresent: boolean | undefined;
}

export interface BrokerRestartResult {
  readonly persistence: boolean;
  readonly restarts: readonly RestartRecord[];
  readonly medianMs: number;
  readonly worstMs: number;
  /** QoS 1 messages the broker acknowledged to the publisher. */
  readonly sent: number;
  /** Of those, how many reached InfluxDB (VictoriaMetrics), and how many did not. */
  readonly landed: number;
  readonly lost: number;
  /** Of the lost: acknowledged by the broker after it listened again and before the gateway was back. */
  readonly lostBeforeBack: number;
  readonly duplicates: number;
  readonly sessionsLost: number;
  /** Log lines with the session-loss warning. */
  readonly lossWarnings: number;
  readonly lastSessionLoss: GatewayStatus['mqtt']['lastSessionLoss'];
  readonly summary: string;
}

/** SequencedPublisher's per-seq state for "the broker acknowledged it". */
const ACKED = 3;

export const SESSION_LOST_MESSAGE =
  "the broker lost this gateway's session: messages published while the gateway was away were dropped by the broker; check the broker's persistence";

/** Resolves with Date.now() of the first successful TCP connect to 127.0.0.1:port (polled every 5 ms). */
async function firstListen(port: number, signal: AbortSignal): Promise<number> {
  while (!signal.aborted) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return Date.now();
    await sleep(5);
  }
  return Number.NaN;
}

export async function runBrokerRestarts(opts: BrokerRestartOptions): Promise<BrokerRestartResult> {
  const mode = opts.persistence ? 'persistence' : 'no-persistence';
  const t0 = Date.now();
  const log = (line: string): void => opts.log?.(`[restarts ${mode}] +${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`);
  return withScenario('reconnect', log, async (scenario) => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-restarts-'));
    scenario.defer(() => process.env.EDGEBRIDGE_KEEP_TMP !== '1' && fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 }));
    const { mq, vm } = await scenario.servers({
      mosquitto: { persistence: opts.persistence },
      victoriaMetrics: { extraArgs: ['-loggerLevel=ERROR'] },
    });
    const gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_URL: vm.url,
        EDGEBRIDGE_REDIS_ENABLED: 'false',
        EDGEBRIDGE_SPOOL_DIR: path.join(runDir, 'spool'),
        EDGEBRIDGE_HTTP_PORT: String(await freePort()),
        EDGEBRIDGE_MQTT_CLIENT_ID: `edgebridge-restarts-${process.pid}-${mode}`,
        EDGEBRIDGE_GATEWAY_ID: 'restarts',
        EDGEBRIDGE_INFLUX_RESILIENCE_RETRY_MAX_MS: '2000',
        // The reconnect schedule is the default one: that is what is measured.
        ...opts.gatewayEnv,
      },
      timeoutMs: 30_000,
    });
    scenario.defer(async () => {
      await gw.stop();
      fs.writeFileSync(path.join(runDir, 'gateway.log'), gw.stdout + gw.stderr);
    });

    const plannedMs = 1500 + opts.plan.reduce((sum, r) => sum + r.downMs + r.upMs, 0);
    const n = Math.max(1, Math.round((opts.ratePerSecond * plannedMs) / 1000));
    const shared = newPublishShared(n, 10, t0);
    const publisher = new SequencedPublisher(
      mq.url,
      `restarts-pub-${process.pid}-${mode}`,
      shared,
      Int32Array.from({ length: n }, (_, i) => i),
      opts.ratePerSecond,
    );
    scenario.defer(() => publisher.stop());
    const publishing = publisher.run();
    await sleep(1500);

    const listens: { at: number; startedAt: number; stoppedAt: number }[] = [];
    for (const [i, r] of opts.plan.entries()) {
      await mq.process.stop();
      const stoppedAt = Date.now();
      await sleep(r.downMs);
      const probe = new AbortController();
      const listening = firstListen(mq.port, probe.signal);
      const startedAt = Date.now();
      await mq.process.start();
      const at = await listening;
      probe.abort();
      listens.push({ at, startedAt, stoppedAt });
      log(`restart ${i + 1}/${opts.plan.length} (${r.label}): down ${at - stoppedAt} ms, listening again`);
      await sleep(r.upMs);
    }
    await Promise.race([publishing, sleep(60_000, undefined, { ref: false })]);
    publisher.stop();

    // Everything the gateway took lands; then compare with what the broker acknowledged.
    let last = -1;
    let stableSince = Date.now();
    await waitFor(
      async () => {
        const st = await gw.status();
        if (st.messages.received !== last) [last, stableSince] = [st.messages.received, Date.now()];
        return Date.now() - stableSince > 2000 && st.sinks.every((s) => s.backlog.points === 0);
      },
      { timeoutMs: 120_000, intervalMs: 250, message: 'the gateway did not drain' },
    );
    const seqs = (await influxSeqs(vm)).filter((s) => shared.state[s] === ACKED);
    const acked = shared.acked;
    const v = verdict(seqs, n);
    const landed = v.landed;
    const status = await gw.status();
    const logs = gw.logs();
    const timeOf = (l: Record<string, unknown>): number => Date.parse(String(l.time));
    const subscribed = logs.filter((l) => l.msg === 'mqtt subscribed').map(timeOf);
    const connects = logs
      .filter((l) => l.msg === 'mqtt connected')
      .map((l) => ({ at: timeOf(l), sessionPresent: l.sessionPresent === true }));
    const restarts: RestartRecord[] = opts.plan.map((r, i) => {
      const { at, startedAt } = listens[i]!;
      const nextStop = listens[i + 1]?.stoppedAt ?? Number.POSITIVE_INFINITY;
      // On a loaded machine the probe (in this process, beside the publisher) can see the port later than the
      // gateway does: look from the broker's spawn on, and count a gateway that was quicker than the probe as 0.
      const sub = subscribed.find((t) => t >= startedAt && t < nextStop);
      const connect = connects.find((c) => c.at >= startedAt && c.at < nextStop);
      const subscribedAfterMs = sub === undefined ? undefined : Math.max(0, sub - at);
      const connectedAfterMs = connect === undefined ? undefined : Math.max(0, connect.at - at);
      const sessionPresent = connect?.sessionPresent;
      const backAfterMs = sessionPresent === true ? connectedAfterMs : subscribedAfterMs;
      return { ...r, connectedAfterMs, subscribedAfterMs, backAfterMs, sessionPresent };
    });
    const delays = restarts.map((r) => r.backAfterMs ?? Number.POSITIVE_INFINITY);
    const landedSeqs = new Set(seqs);
    const windows = restarts.map((r, i) => [listens[i]!.at - t0, listens[i]!.at - t0 + (r.backAfterMs ?? 0)] as const);
    let lostBeforeBack = 0;
    for (let seq = 0; seq < n; seq++) {
      if (shared.state[seq] !== ACKED || landedSeqs.has(seq)) continue;
      const ackedAt = shared.ackedAt[seq]!;
      if (windows.some(([from, to]) => ackedAt >= from && ackedAt <= to + 5)) lostBeforeBack++;
    }
    const medianMs = median(delays);
    const worstMs = Math.max(...delays);
    const lossWarnings = logs.filter((l) => l.msg === SESSION_LOST_MESSAGE).length;
    const summary =
      `restarts ${mode}: ${restarts.length} restarts, messages flowing again after median ${Math.round(medianMs)} ms, worst ${worstMs} ms ` +
      `(connected ${restarts.map((r) => r.connectedAfterMs ?? 'none').join(',')}; subscribed ${restarts.map((r) => r.subscribedAfterMs ?? 'none').join(',')}); sent ${acked}, landed ${landed}, lost ${acked - landed} ` +
      `(${lostBeforeBack} of them acknowledged between the broker's return and the gateway's), ` +
      `sessionsLost ${status.mqtt.sessionsLost}, warnings ${lossWarnings}`;
    log(summary);
    return {
      persistence: opts.persistence,
      restarts,
      medianMs,
      worstMs,
      sent: acked,
      landed,
      lost: acked - landed,
      lostBeforeBack,
      duplicates: v.duplicates,
      sessionsLost: status.mqtt.sessionsLost,
      lossWarnings,
      lastSessionLoss: status.mqtt.lastSessionLoss,
      summary,
    };
  });
}
