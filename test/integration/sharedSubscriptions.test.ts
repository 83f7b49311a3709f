import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { connectPublisher, freePort, startMosquitto, startRedis, startVictoriaMetrics, waitFor } from '../harness/index.ts';
import type { MosquittoHandle, Publisher, RedisHandle, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';
import { SequencedLoad, missing } from './support/sequencedLoad.ts';

/**
 * Several gateways in one MQTT shared-subscription group on a real Mosquitto (persistence on, queues sized):
 * each message goes to one member, every sequence number lands once across them in both sinks, and a member
 * SIGKILLed mid-run loses nothing once it is back with the same client id and spool directory.
 * EDGEBRIDGE_SHARE_PHASE_S stretches each phase (default 4 s; `npm run test:share-long` runs 20 s phases).
 */
const PHASE_MS = Number(process.env.EDGEBRIDGE_SHARE_PHASE_S ?? 4) * 1000;
const PUBLISHERS = ['sha', 'shb', 'shc'];

const FAST = {
  EDGEBRIDGE_INFLUX_BATCH_FLUSH_INTERVAL_MS: '200',
  EDGEBRIDGE_REDIS_BATCH_FLUSH_INTERVAL_MS: '200',
  EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200',
  EDGEBRIDGE_MQTT_RECONNECT_MAX_MS: '1000',
};

interface Member {
  readonly env: Record<string, string>;
  gw: GatewayProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Messages accepted by each member's current process (a restarted process counts from 0). */
async function accepted(members: readonly Member[], skip?: Member): Promise<number[]> {
  return Promise.all(members.map(async (m) => (m === skip ? NaN : (await m.gw.status()).messages.accepted)));
}

/** Every seq of each measurement, from VictoriaMetrics (all gateway-tagged series) and from the Redis stream. */
async function landed(vm: VictoriaMetricsHandle, redis: Redis, measurement: string): Promise<{ vm: number[]; redis: number[] }> {
  const series = await vm.exportSeries(`${measurement}_seq`);
  const stream = await redis.xrange(`eb:stream:{${measurement}}`, '-', '+');
  return { vm: series.flatMap((s) => s.values), redis: stream.map(([, f]) => Number(f[f.indexOf('seq') + 1])) };
}

function duplicates(values: readonly number[]): number {
  return values.length - new Set(values).size;
}

describe('MQTT shared subscriptions: several gateways, one share group', () => {
  let mq: MosquittoHandle;
  let rd: RedisHandle;
  let vm: VictoriaMetricsHandle;
  let redis: Redis;
  const members: Member[] = [];
  const publishers: Publisher[] = [];
  const dirs: string[] = [];

  async function member(i: number, env: Record<string, string>): Promise<Member> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `edgebridge-share-${i}-`));
    dirs.push(dir);
    const full = {
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_INFLUX_URL: vm.url,
      EDGEBRIDGE_REDIS_URL: rd.url,
      EDGEBRIDGE_SPOOL_DIR: dir,
      EDGEBRIDGE_HTTP_PORT: String(await freePort()),
      ...FAST,
      ...env,
    };
    const m = { env: full, gw: await GatewayProcess.start({ env: full }) };
    members.push(m);
    return m;
  }

  /** Publishes on `topic` until every member has received something: all of them hold the subscription. */
  async function warmUp(group: readonly Member[], topic: string): Promise<void> {
    const pub = await connectPublisher(mq.url);
    publishers.push(pub);
    await waitFor(
      async () => {
        await pub.publish(topic, JSON.stringify({ seq: 0, ts: Date.now() }), 1);
        return (await Promise.all(group.map(async (m) => (await m.gw.status()).messages.received > 0))).every(Boolean);
      },
      { timeoutMs: 15_000, intervalMs: 50, message: () => 'not every member of the share group received a message' },
    );
  }

  before(async () => {
    [mq, rd, vm] = await Promise.all([
      // Sized rather than unlimited, as docs/broker.md advises: far above what one member's outage queues here.
      startMosquitto({ persistence: true, extraConfig: ['max_queued_messages 100000', 'max_inflight_messages 1000'] }),
      startRedis({ appendonly: true }),
      startVictoriaMetrics(),
    ]);
    redis = new Redis(rd.url);
  });

  after(async () => {
    await Promise.all(publishers.map((p) => p.end(true).catch(() => {})));
    redis?.disconnect();
    await Promise.all(members.map((m) => m.gw.stop()));
    await Promise.all([mq?.destroy(), rd?.destroy(), vm?.destroy()]);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('MQTT 5: three members share the load; one SIGKILLed and restarted loses nothing', async (t: TestContext) => {
    const group: Member[] = [];
    for (let i = 0; i < 3; i++) {
      group.push(
        await member(i, {
          EDGEBRIDGE_GATEWAY_ID: `gw-share-${i}`,
          EDGEBRIDGE_MQTT_CLIENT_ID: `eb-share-${i}`,
          EDGEBRIDGE_MQTT_SUBSCRIPTIONS: '$share/eb/sensors/#:1',
          // The route carries the share prefix too: it is stripped, the route matches the real topics.
          EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: '$share/eb/sensors/{device}/{measurement}' }]),
        }),
      );
    }
    await warmUp(group, 'sensors/w/shwarm');
    const base = await accepted(group);

    const pubs = await Promise.all(PUBLISHERS.map(() => connectPublisher(mq.url)));
    publishers.push(...pubs);
    // Different paces: publishers in lockstep would pin each one to one member under round robin.
    const loads = pubs.map((p, i) => new SequencedLoad(p, { devices: 4, intervalMs: 3 + 2 * i, measurement: PUBLISHERS[i]! }));
    const sent = () => loads.reduce((n, l) => n + l.sent, 0);
    for (const l of loads) l.start();

    // Phase 1: all three up.
    await sleep(PHASE_MS);
    const victim = group[1]!;
    const beforeKill = await accepted(group);
    const sentAtKill = sent();
    victim.gw.signal('SIGKILL');
    await victim.gw.exited();

    // Phase 2: one member away. Its persistent session stays on the broker.
    await sleep(PHASE_MS);
    const live = group.filter((m) => m !== victim);
    const beforeRestart = await accepted(group, victim);
    const sentAtRestart = sent();
    victim.gw = await GatewayProcess.start({ env: victim.env });
    const sessionPresent = victim.gw.logs().find((l) => l.msg === 'mqtt connected')?.sessionPresent;
    // What the broker held for the session arrives right after the reconnect.
    await sleep(500);
    const victimAtReturn = (await victim.gw.status()).messages.accepted;

    // Phase 3: all three again.
    await sleep(PHASE_MS);
    const total = await Promise.all(loads.map((l) => l.stop()));
    const sentAll = total.reduce((a, b) => a + b, 0);
    const atEnd = await accepted(group);

    // Everything drained: each member's sinks have no backlog.
    await waitFor(
      async () =>
        (await Promise.all(group.map(async (m) => (await m.gw.status()).sinks.every((s) => s.backlog.points === 0)))).every(Boolean),
      { timeoutMs: 20_000, message: () => 'a member still has a backlog' },
    );
    const results: Record<string, unknown>[] = [];
    for (const [i, name] of PUBLISHERS.entries()) {
      const n = total[i]!;
      const got = await waitFor(
        async () => {
          const l = await landed(vm, redis, name);
          return missing(l.vm, n).length === 0 && missing(l.redis, n).length === 0 ? l : undefined;
        },
        {
          timeoutMs: 20_000,
          intervalMs: 250,
          message: () => `publisher ${name}: not every one of ${n} sequence numbers landed`,
        },
      );
      assert.deepEqual(missing(got.vm, n), [], `${name}: every seq in VictoriaMetrics`);
      assert.deepEqual(missing(got.redis, n), [], `${name}: every seq in the Redis stream`);
      results.push({
        publisher: name,
        sent: n,
        vmDistinct: new Set(got.vm).size,
        vmDuplicates: duplicates(got.vm),
        redisDistinct: new Set(got.redis).size,
        redisDuplicates: duplicates(got.redis),
      });
    }

    // The split. Phase 1 and 3: round robin over the members; phase 2: what the broker did with the dead member's share.
    const phase1 = beforeKill.map((a, i) => a - base[i]!);
    const phase1Sent = sentAtKill;
    const phase2Live = live.map((m) => beforeRestart[group.indexOf(m)]! - beforeKill[group.indexOf(m)]!);
    const phase2Sent = sentAtRestart - sentAtKill;
    const report = {
      sent: sentAll,
      phase1: { sent: phase1Sent, acceptedPerMember: phase1 },
      phase2: {
        sent: phase2Sent,
        acceptedByLiveMembers: phase2Live,
        liveShare: +(phase2Live.reduce((a, b) => a + b, 0) / phase2Sent).toFixed(3),
      },
      restart: { sessionPresent, acceptedByRestartedMemberWithin500ms: victimAtReturn },
      acceptedPerMemberAtEnd: atEnd,
      // The restarted member re-sends its spool's un-checkpointed tail: Redis skips it, VictoriaMetrics keeps it.
      restartedMemberRedisSkippedAsDuplicate: (
        (await victim.gw.status()).sinks as unknown as { name: string; pointsDuplicate: number }[]
      ).find((x) => x.name === 'redis')?.pointsDuplicate,
      landed: results,
    };
    t.diagnostic(`shared-subscription split: ${JSON.stringify(report)}`);

    for (const [i, n] of phase1.entries())
      assert.ok(n > phase1Sent / 6, `member ${i} took a share of phase 1: ${phase1.join(', ')} of ${phase1Sent}`);
    for (const [i, n] of atEnd.entries()) assert.ok(n > 0, `member ${i} took messages after the restart: ${atEnd.join(', ')}`);
    assert.equal(sessionPresent, true, 'the restarted member found its persistent session');
    for (const m of group) {
      const s = await m.gw.status();
      for (const sink of s.sinks) assert.equal(sink.pointsDropped, 0, `${sink.name} dropped nothing`);
    }
  });

  it('MQTT 3.1.1: the same $share/<group>/<filter> form, members share without overlap', async (t: TestContext) => {
    const group: Member[] = [];
    for (let i = 0; i < 2; i++) {
      group.push(
        await member(10 + i, {
          EDGEBRIDGE_GATEWAY_ID: `gw-share4-${i}`,
          EDGEBRIDGE_MQTT_CLIENT_ID: `eb-share4-${i}`,
          EDGEBRIDGE_MQTT_PROTOCOL_VERSION: '4',
          EDGEBRIDGE_MQTT_SUBSCRIPTIONS: '$share/eb4/legacy/#:1',
          EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: 'legacy/{device}/{measurement}' }]),
        }),
      );
    }
    await warmUp(group, 'legacy/w/shwarm4');
    const base = await accepted(group);
    const pub = await connectPublisher(mq.url, { protocolVersion: 4 });
    publishers.push(pub);
    const N = 300;
    for (let seq = 0; seq < N; seq++) await pub.publish(`legacy/d${seq % 3}/sh4`, JSON.stringify({ seq, ts: Date.now() }), 1);
    const series = await vm.waitForSeries('sh4_seq', (s) => new Set(s.flatMap((x) => x.values)).size >= N, 20_000);
    const values = series.flatMap((s) => s.values);
    assert.deepEqual(missing(values, N), []);
    assert.equal(duplicates(values), 0, 'each message went to one member only');
    const split = (await accepted(group)).map((a, i) => a - base[i]!);
    t.diagnostic(`MQTT 3.1.1 split of ${N}: ${split.join(', ')}`);
    for (const n of split) assert.ok(n > 0, `both members took messages: ${split.join(', ')}`);
    assert.equal(
      split.reduce((a, b) => a + b, 0),
      N,
    );
    await Promise.all(group.map((m) => m.gw.stop()));
  });
});
