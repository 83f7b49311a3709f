import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { GatewayProcess, type MosquittoHandle, startMosquitto, waitFor } from '../harness/index.ts';

const PRESET = fileURLToPath(new URL('../../config/routes/sparkplug.json', import.meta.url));
const TOPIC = 'spBv1.0/STATE/eb-host';

interface Seen {
  readonly online: boolean;
  readonly timestamp: number;
  readonly retain: boolean;
  /** When the watcher got it (epoch ms). */
  readonly at: number;
}

/** What a fresh subscriber reads as the retained STATE (what an edge node that connects now sees). */
async function retained(url: string): Promise<Seen> {
  const client = await mqtt.connectAsync(url, { clientId: `sp-state-fresh-${Date.now()}`, reconnectPeriod: 0 });
  try {
    const got = new Promise<Seen>((resolve) =>
      client.on('message', (_t, payload, packet) => resolve({ ...parse(payload), retain: packet.retain, at: Date.now() })),
    );
    await client.subscribeAsync(TOPIC, { qos: 1 });
    return await Promise.race([got, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no retained STATE')), 5000))]);
  } finally {
    await client.endAsync(true);
  }
}

function parse(payload: Buffer): { online: boolean; timestamp: number } {
  const value = JSON.parse(payload.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(value), ['online', 'timestamp'], `the 3.0 payload's two keys: ${payload.toString()}`);
  assert.equal(typeof value.online, 'boolean');
  assert.ok(Number.isSafeInteger(value.timestamp));
  return value as { online: boolean; timestamp: number };
}

/**
 * The gateway's own Sparkplug host STATE on the real Mosquitto: the retained birth; a death injected on its topic
 * answered by the birth again; a broker restart → a new birth with a new timestamp; SIGKILL → the broker's Will with
 * the birth's timestamp; a clean stop → the death stamped at the stop, and no Will after it.
 */
for (const version of ['5', '4'] as const)
  describe(`Sparkplug host STATE (sparkplug.hostId) on the real broker, MQTT ${version === '5' ? '5' : '3.1.1'}`, () => {
    let mq: MosquittoHandle;
    let gw: GatewayProcess | undefined;
    let watcher: MqttClient;
    const seen: Seen[] = [];
    const spoolDir = mkdtempSync(join(tmpdir(), `eb-spstate-spool-${version}-`));
    let env: Record<string, string>;
    let firstBirth: Seen;
    let secondBirth: Seen;

    const start = (): Promise<GatewayProcess> => GatewayProcess.start({ env, waitUntil: 'alive' });
    const births = (): Seen[] => seen.filter((s) => s.online);
    const waitForState = (what: string, ok: (s: Seen) => boolean, timeoutMs = 15_000): Promise<Seen> =>
      waitFor(() => seen.find(ok), { timeoutMs, message: () => `${what}; seen: ${JSON.stringify(seen)}` }) as Promise<Seen>;

    before(async () => {
      mq = await startMosquitto({ persistence: true });
      env = {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_GATEWAY_ID: 'gw-spstate',
        EDGEBRIDGE_SPOOL_DIR: spoolDir,
        EDGEBRIDGE_ROUTES_FILE: PRESET,
        EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'spBv1.0/#:1',
        EDGEBRIDGE_MQTT_STATUS_TOPIC: '',
        EDGEBRIDGE_SPARKPLUG_HOST_ID: 'eb-host',
        EDGEBRIDGE_INFLUX_ENABLED: 'false',
        EDGEBRIDGE_REDIS_ENABLED: 'false',
        EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '100',
        EDGEBRIDGE_MQTT_PROTOCOL_VERSION: version,
      };
      // Watches the STATE live, as an edge node waiting for its primary host would (reconnects by itself).
      watcher = await mqtt.connectAsync(mq.url, { clientId: `sp-state-watcher-${version}`, reconnectPeriod: 200 });
      watcher.on('message', (_t, payload, packet) => seen.push({ ...parse(payload), retain: packet.retain, at: Date.now() }));
      await watcher.subscribeAsync(TOPIC, { qos: 1 });
    });

    after(async () => {
      await watcher?.endAsync(true);
      await gw?.stop();
      await mq?.destroy();
      rmSync(spoolDir, { recursive: true, force: true });
    });

    it('publishes a retained birth {"online":true,"timestamp":…} once connected and subscribed', async () => {
      const started = Date.now();
      gw = await start();
      firstBirth = await waitForState('a birth', (s) => s.online);
      assert.ok(firstBirth.timestamp >= started - 1000 && firstBirth.timestamp <= Date.now(), `timestamp ${firstBirth.timestamp}`);
      const r = await retained(mq.url);
      assert.deepEqual([r.online, r.timestamp, r.retain], [true, firstBirth.timestamp, true]);
      // Births come after the subscriptions: the gateway's log says it subscribed before the STATE went online.
      const msgs = gw.logs().map((l) => l.msg);
      assert.ok(msgs.indexOf('mqtt subscribed') < msgs.indexOf('Sparkplug host STATE online'), JSON.stringify(msgs));
    });

    it('a death on its own topic while online (a late Will) is answered by the birth again; not counted as an error', async () => {
      const other = await mqtt.connectAsync(mq.url, { clientId: `sp-state-injector-${version}`, reconnectPeriod: 0 });
      await other.publishAsync(TOPIC, JSON.stringify({ online: false, timestamp: firstBirth.timestamp - 60_000 }), {
        qos: 1,
        retain: true,
      });
      await other.endAsync();
      await waitFor(() => births().length >= 2, { timeoutMs: 10_000, message: () => JSON.stringify(seen) });
      assert.equal(births()[1]!.timestamp, firstBirth.timestamp, 'the same timestamp as the Will of this connection');
      const r = await retained(mq.url);
      assert.deepEqual([r.online, r.timestamp], [true, firstBirth.timestamp]);
      const status = await gw!.status();
      assert.equal(status.messages.rejected, 0, JSON.stringify(status.messages.rejectedByReason));
      assert.ok(status.messages.unrouted >= 2, 'STATE messages are unrouted, as every STATE');
    });

    it('a broker restart: a new birth with a new timestamp (a new CONNECT, a new Will)', async () => {
      const before = seen.length;
      await mq.restart();
      secondBirth = await waitForState('a birth after the broker restart', (s) => s.online && s.timestamp > firstBirth.timestamp, 30_000);
      assert.ok(seen.indexOf(secondBirth) >= before);
      const r = await retained(mq.url);
      assert.deepEqual([r.online, r.timestamp], [true, secondBirth.timestamp]);
    });

    it('SIGKILL of the gateway: the broker publishes the Will, {"online":false} with the timestamp of the birth it follows', async () => {
      const killedAt = Date.now();
      gw!.signal('SIGKILL');
      await gw!.exited();
      const death = await waitForState('the Will', (s) => !s.online && s.timestamp === secondBirth.timestamp);
      // The kernel closes the dead process's socket: the broker sends the Will at once, not after the keepalive.
      assert.ok(death.at - killedAt < 5000, `the Will ${death.at - killedAt} ms after the kill`);
      const r = await retained(mq.url);
      assert.deepEqual([r.online, r.timestamp, r.retain], [false, secondBirth.timestamp, true]);
    });

    it('a clean stop under QoS 0 traffic: the death stamped at the stop, acknowledged before DISCONNECT; no Will after it', async () => {
      gw = await start();
      const birth = await waitForState('a birth after the restart', (s) => s.online && s.timestamp > secondBirth.timestamp);
      // Sparkplug data is QoS 0: what arrives during the stop must not hold the death's PUBACK behind it.
      const node = await mqtt.connectAsync(mq.url, { clientId: `sp-state-node-${version}`, reconnectPeriod: 0 });
      const traffic = setInterval(() => node.publish('spBv1.0/plant/NDATA/edge1', Buffer.from([1, 2, 3]), { qos: 0 }), 2);
      await new Promise((r) => setTimeout(r, 200));
      const count = seen.length;
      const stopAt = Date.now();
      const exit = await gw.stop();
      clearInterval(traffic);
      await node.endAsync();
      assert.equal(exit.code, 0);
      const stuck = gw.logs().filter((l) => String(l.msg).startsWith('could not publish the death'));
      assert.deepEqual(stuck, [], 'the death was acknowledged within the stop');
      const death = await waitForState('the death of the clean stop', (s) => !s.online && seen.indexOf(s) >= count);
      assert.ok(death.timestamp > birth.timestamp, 'later than the birth');
      assert.ok(death.timestamp >= stopAt - 5 && death.timestamp <= Date.now(), `stamped at the stop: ${death.timestamp} vs ${stopAt}`);
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(
        seen.slice(count).map((s) => s.online),
        [false],
        `one death: the broker dropped the Will on the DISCONNECT; ${JSON.stringify(seen.slice(count))}; log: ${JSON.stringify(gw.logs().slice(-8))}`,
      );
      const r = await retained(mq.url);
      assert.deepEqual([r.online, r.timestamp], [false, death.timestamp]);
      gw = undefined;
    });
  });
