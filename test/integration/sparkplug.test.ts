import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { GatewayProcess, startServers, type Servers, waitFor } from '../harness/index.ts';
import { EdgeNode, type SimMetric } from '../harness/sparkplug/EdgeNode.ts';
import { DataType } from '../../src/sparkplug/DataType.ts';

const PRESET = fileURLToPath(new URL('../../config/routes/sparkplug.json', import.meta.url));
const NODE_METRICS: SimMetric[] = [
  { name: 'Temperature', datatype: DataType.Float, unit: '°C', member: 'float_value', initial: 20.5 },
  { name: 'Counter', datatype: DataType.UInt64, member: 'long_value', initial: 0 },
  { name: 'Running', datatype: DataType.Boolean, member: 'boolean_value', initial: true },
];
const PUMP_METRICS: SimMetric[] = [{ name: 'rpm', datatype: DataType.Double, unit: 'rpm', member: 'double_value', initial: 1500 }];
const NODE_KEY = 'eb:latest:{plant/edge1}:sparkplug';

/**
 * The Sparkplug host end to end: a simulated edge node (births, data by alias, seq wrapping past 255, a lost
 * message, a Rebirth request and the rebirth, death by the broker's last will) on the real Mosquitto, with the real
 * InfluxDB stand-in (VictoriaMetrics) and Redis, and a gateway restart in the middle that must not lose the aliases.
 */
describe('Sparkplug B host on the real broker and sinks', () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let sim: EdgeNode;
  let redis: Redis;
  let watcher: MqttClient;
  const deadLetters: { reason: string; topic: string }[] = [];
  const spoolDir = mkdtempSync(join(tmpdir(), 'eb-sparkplug-spool-'));
  let env: Record<string, string>;

  before(async () => {
    servers = await startServers();
    env = {
      ...servers.env,
      EDGEBRIDGE_GATEWAY_ID: 'gw-sp',
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_ROUTES_FILE: PRESET,
      EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'spBv1.0/#:1',
      EDGEBRIDGE_SPARKPLUG_REBIRTH: 'true',
      EDGEBRIDGE_SPARKPLUG_REBIRTH_MIN_INTERVAL_MS: '1000',
    };
    gw = await GatewayProcess.start({ env });
    redis = new Redis(servers.rd.url);
    watcher = await mqtt.connectAsync(servers.mq.url, { clientId: 'sp-watcher' });
    await watcher.subscribeAsync('edgebridge/gw-sp/deadletter', { qos: 0 });
    watcher.on('message', (_t, payload) => deadLetters.push(JSON.parse(payload.toString()) as { reason: string; topic: string }));
    sim = await EdgeNode.connect({
      url: servers.mq.url,
      group: 'plant',
      node: 'edge1',
      metrics: NODE_METRICS,
      devices: { pump: PUMP_METRICS },
      bdSeq: 4,
      answerRebirth: false, // the test answers, so that the order of messages is its own
    });
  });

  after(async () => {
    await sim?.end().catch(() => {});
    await watcher?.endAsync(true);
    redis?.disconnect();
    await gw?.stop();
    await servers?.destroy();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('births and 400 messages by alias, seq wrapping past 255: every value in both sinks, with units as tags', async () => {
    await sim.birth();
    for (let i = 1; i <= 300; i++) {
      await sim.data({ 1: 20 + i / 10, 2: i });
      if (i % 3 === 0) await sim.data({ 1: 1500 + i }, 'pump');
    }
    assert.ok(sim.published > 256, 'seq wrapped');
    const counter = await servers.vm.waitForSeries('sparkplug_Counter', (s) => (s[0]?.values.length ?? 0) === 301, 20_000);
    assert.equal(counter.length, 1);
    assert.deepEqual(counter[0]!.metric, {
      __name__: 'sparkplug_Counter',
      device: 'plant/edge1',
      gateway: 'gw-sp',
      group: 'plant',
      node: 'edge1',
    });
    // Both metrics only grow: the largest value is the last one sent (samples of one ms may export in any order).
    assert.equal(Math.max(...counter[0]!.values), 300);
    const temp = await servers.vm.waitForSeries('sparkplug_Temperature', (s) => (s[0]?.values.length ?? 0) === 301, 10_000);
    assert.equal(temp[0]!.metric.engUnit, '°C');
    assert.equal(Math.max(...temp[0]!.values), 50);
    const rpm = await servers.vm.waitForSeries('sparkplug_rpm', (s) => (s[0]?.values.length ?? 0) === 101, 10_000);
    assert.equal(rpm[0]!.metric.device, 'plant/edge1/pump');
    await waitFor(async () => (await redis.hget(NODE_KEY, 'Counter')) === '300', { timeoutMs: 10_000 });
    assert.equal(await redis.hget(NODE_KEY, 'Running'), 'true');
    assert.equal(await redis.hget('eb:latest:{plant/edge1/pump}:sparkplug', 'rpm'), '1800');
    assert.equal(await redis.hget(`${NODE_KEY}_status`, 'online'), 'true');
    const status = await gw.status();
    assert.equal(status.messages.rejected, 0, JSON.stringify(status.messages.rejectedByReason));
  });

  it('a lost message: the next is refused (seq gap, dead-lettered), a Rebirth is requested, and data flows after the rebirth', async () => {
    sim.lose();
    await sim.data({ 2: 1000 });
    await waitFor(() => sim.rebirthRequests >= 1 || undefined, { timeoutMs: 10_000 });
    await waitFor(() => deadLetters.find((d) => d.reason === 'sparkplug_seq_gap'), { timeoutMs: 10_000 });
    await sim.birth();
    await sim.data({ 2: 1001 });
    await waitFor(async () => (await redis.hget(NODE_KEY, 'Counter')) === '1001', { timeoutMs: 10_000 });
    const metrics = await (await gw.get('/metrics')).text();
    assert.match(metrics, /edgebridge_messages_rejected_total\{reason="sparkplug_seq_gap"\} 1\n/);
    assert.match(metrics, /edgebridge_sparkplug_rebirths_sent_total 1\n/);
    assert.match(metrics, /edgebridge_sparkplug_nodes\{state="online"\} 1\n/);
    const counter = await servers.vm.waitForSeries('sparkplug_Counter', (s) => s[0]?.values.includes(1001) ?? false, 10_000);
    assert.ok(!counter[0]!.values.includes(1000), 'the refused message is in the dead letter, not the sinks');
  });

  it('a gateway restart keeps the alias maps: data sent while it was away is read without a new BIRTH', async () => {
    assert.equal(readdirSync(join(spoolDir, 'sparkplug')).length, 1);
    await gw.stop();
    await sim.data({ 2: 2000 }); // queued by the broker for the gateway's persistent session
    gw = await GatewayProcess.start({ env });
    await waitFor(async () => (await redis.hget(NODE_KEY, 'Counter')) === '2000', { timeoutMs: 15_000 });
    assert.equal((await gw.status()).messages.rejected, 0);
  });

  it('death by the broker’s last will: the node and its device are marked offline, with the time', async () => {
    const before = Date.now();
    sim.crash();
    await waitFor(async () => (await redis.hget(`${NODE_KEY}_status`, 'online')) === 'false', { timeoutMs: 15_000 });
    assert.equal(await redis.hget(`${NODE_KEY}_status`, 'event'), 'NDEATH');
    assert.equal(await redis.hget(`${NODE_KEY}_status`, 'bdSeq'), '4');
    const at = Number(await redis.hget(`${NODE_KEY}_status:ts`, 'online'));
    assert.ok(at >= before - 1000, `offline since ${new Date(at).toISOString()}`);
    await waitFor(async () => (await redis.hget('eb:latest:{plant/edge1/pump}:sparkplug_status', 'online')) === 'false', {
      timeoutMs: 5_000,
    });
    const online = await servers.vm.waitForSeries(
      'sparkplug_status_online',
      (s) => s.some((x) => x.metric.device === 'plant/edge1' && x.values.at(-1) === 0),
      10_000,
    );
    assert.ok(online.length >= 2);
  });
});
