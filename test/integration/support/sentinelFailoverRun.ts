import { Redis } from 'ioredis';
import { connectPublisher, startMosquitto, waitFor } from '../../harness/index.ts';
import { startRedisSentinel } from '../../harness/RedisSentinel.ts';
import { GatewayProcess } from './GatewayProcess.ts';
import { SequencedLoad, missing } from './sequencedLoad.ts';

export interface FailoverOutcome {
  readonly sent: number;
  /** Sequence numbers missing from the new master's stream. */
  readonly lost: number[];
  /** Stream entries beyond one per sequence number. */
  readonly duplicates: number;
  readonly oldMasterPort: number;
  readonly newMasterPort: number;
  /** What the gateway counted. */
  readonly written: number;
  readonly rejected: number;
  /** Seconds from the SIGKILL until the Sentinels named a new master / until the gateway wrote again. */
  readonly promotedAfterS: number;
  readonly resumedAfterS: number;
}

/**
 * A gateway in sentinel mode under sequenced QoS 1 load; the master is SIGKILLed mid-run, the Sentinels promote a
 * replica, the load goes on until the gateway writes again, then every sequence number is looked for in the new
 * master's stream. Everything runs on free loopback ports and is torn down at the end.
 */
export async function sentinelFailoverRun(waitReplicas: number, log: (line: string) => void): Promise<FailoverOutcome> {
  const [mq, rs] = await Promise.all([
    startMosquitto(),
    startRedisSentinel({ replicas: 2, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 5000 }),
  ]);
  let gw: GatewayProcess | undefined;
  let pub: Awaited<ReturnType<typeof connectPublisher>> | undefined;
  try {
    gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_ENABLED: 'false',
        EDGEBRIDGE_REDIS_MODE: 'sentinel',
        EDGEBRIDGE_REDIS_SENTINELS: rs.sentinelAddresses.join(','),
        EDGEBRIDGE_REDIS_SENTINEL_NAME: rs.masterName,
        EDGEBRIDGE_REDIS_WAIT_REPLICAS: String(waitReplicas),
        EDGEBRIDGE_REDIS_WAIT_TIMEOUT_MS: '500',
        EDGEBRIDGE_REDIS_BATCH_FLUSH_INTERVAL_MS: '50',
        EDGEBRIDGE_REDIS_RESILIENCE_TIMEOUT_MS: '2000',
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_INITIAL_MS: '100',
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_MAX_MS: '500',
        EDGEBRIDGE_REDIS_RESILIENCE_BREAKER_THRESHOLD: '20',
        EDGEBRIDGE_REDIS_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS: '1000',
      },
    });
    pub = await connectPublisher(mq.url);
    const load = new SequencedLoad(pub, { devices: 5, intervalMs: 2 });
    load.start();
    await waitFor(async () => (await gw!.sink('redis')).pointsWritten > 500, { timeoutMs: 20_000 });

    const oldMaster = await rs.master();
    await oldMaster.kill();
    const killedAt = Date.now();
    const newMasterPort = await waitFor(
      async () => {
        const port = await rs.masterPort();
        return port !== oldMaster.port ? port : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'the Sentinels never promoted a replica' },
    );
    const promotedAfterS = (Date.now() - killedAt) / 1000;
    const before = (await gw.sink('redis')).pointsWritten;
    await waitFor(async () => (await gw!.sink('redis')).pointsWritten > before + 300, {
      timeoutMs: 30_000,
      message: 'writes never resumed',
    });
    const resumedAfterS = (Date.now() - killedAt) / 1000;
    const sent = await load.stop();

    // Drain: every message received and nothing left for the Redis sink.
    await waitFor(
      async () => {
        const s = await gw!.status();
        const sink = s.sinks.find((x) => x.name === 'redis')!;
        return s.messages.received >= sent && sink.backlog.points === 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: 'the gateway never drained' },
    );
    const sink = await gw.sink('redis');

    const master = new Redis({ host: '127.0.0.1', port: newMasterPort });
    try {
      const stream = await master.xrange('eb:stream:{seqtest}', '-', '+');
      const seqs = stream.map(([, f]) => Number(f[f.indexOf('seq') + 1]));
      const lost = missing(seqs, sent);
      const duplicates = seqs.length - new Set(seqs).size;
      const outcome = {
        sent,
        lost,
        duplicates,
        oldMasterPort: oldMaster.port,
        newMasterPort,
        written: sink.pointsWritten,
        rejected: sink.pointsRejected,
        promotedAfterS,
        resumedAfterS,
      };
      log(
        `sentinel failover, waitReplicas=${waitReplicas}: sent ${sent}, lost ${lost.length}${lost.length ? ` (seq ${lost.slice(0, 20).join(',')}${lost.length > 20 ? ',…' : ''})` : ''}, duplicate entries ${duplicates}, written ${sink.pointsWritten}, rejected ${sink.pointsRejected}, new master after ${promotedAfterS.toFixed(1)} s, writes resumed after ${resumedAfterS.toFixed(1)} s`,
      );
      return outcome;
    } finally {
      master.disconnect();
    }
  } catch (error) {
    if (gw) log(`gateway stdout tail: ${gw.stdout.slice(-3000)}`);
    throw error;
  } finally {
    await pub?.end(true);
    await gw?.stop();
    await Promise.all([mq.destroy(), rs.destroy()]);
  }
}
