/**
 * The Node-RED flow of the bench's peer comparison (bench/peers/node-red/flow.json) is the gateway's default
 * pipeline: the nodes, the subscription and QoS, the batch size and flush interval of the gateway's defaults, the
 * Redis keys the bench counts, and pinned versions. Reads files only: no network, no Node-RED.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NODE_RED_PACKAGES } from '../../../bench/peers/nodeRedInstall.ts';
import { streamKey } from '../../../bench/sinkCheck.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'peers', 'node-red');

interface FlowNode {
  id: string;
  type: string;
  wires?: string[][];
  [key: string]: unknown;
}

const flow = JSON.parse(fs.readFileSync(path.join(DIR, 'flow.json'), 'utf8')) as FlowNode[];
const byId = new Map(flow.map((n) => [n.id, n]));
const only = (type: string): FlowNode => {
  const found = flow.filter((n) => n.type === type);
  assert.equal(found.length, 1, `one ${type} node`);
  return found[0]!;
};
const defaults = loadConfig({ argv: [], env: {}, hostname: 'h' });
/** How flow.json names an environment variable Node-RED substitutes: `${NAME}`. */
const ref = (name: string): string => `$\{${name}}`;
const sink = (name: string) => defaults.sinks.find((s) => s.name === name)!;

describe('bench/peers/node-red/flow.json', () => {
  it('subscribes like the gateway: the default topic filter, QoS from the bench (the same as the gateway run), JSON payloads', () => {
    const mqttIn = only('mqtt in');
    assert.equal(mqttIn['topic'], defaults.mqtt.subscriptions[0]!.topic);
    assert.equal(mqttIn['qos'], ref('EB_MQTT_QOS'));
    assert.equal(mqttIn['datatype'], 'json');
    const broker = byId.get(mqttIn['broker'] as string)!;
    assert.equal(broker.type, 'mqtt-broker');
    assert.equal(broker['broker'], ref('EB_MQTT_HOST'));
    assert.equal(broker['port'], ref('EB_MQTT_PORT'));
    assert.equal(broker['protocolVersion'], String(defaults.mqtt.protocolVersion));
    assert.deepEqual(mqttIn.wires, [[only('function').id]]);
  });

  it('batches as the gateway does by default: maxPoints points or flushIntervalMs after the first, whichever comes first', () => {
    const join = only('join');
    const [influx, redis] = [sink('influx'), sink('redis')];
    assert.equal(join['mode'], 'custom');
    assert.equal(join['build'], 'array');
    assert.equal(Number(join['count']), influx.batch.maxPoints);
    assert.equal(Number(join['timeout']) * 1000, influx.batch.flushIntervalMs);
    assert.deepEqual([redis.batch.maxPoints, redis.batch.flushIntervalMs], [influx.batch.maxPoints, influx.batch.flushIntervalMs]);
    assert.deepEqual(join.wires, [[only('influxdb batch').id]]);
  });

  it('writes the batch with the InfluxDB v2 write API to the bench’s server, and Redis per message with HSET and XADD', () => {
    const batch = only('influxdb batch');
    const server = byId.get(batch['influxdb'] as string)!;
    assert.equal(server.type, 'influxdb');
    assert.equal(server['influxdbVersion'], '2.0');
    assert.equal(server['url'], ref('EB_INFLUX_URL'));
    assert.equal(batch['precisionV18FluxV20'], 'ms');
    const fn = only('function');
    const [toJoin, toHset, toXadd] = fn.wires!;
    assert.deepEqual(toJoin, [only('join').id]);
    const command = (ids: string[] | undefined): string => {
      const n = byId.get(ids![0]!)!;
      assert.equal(n.type, 'redis-command');
      const cfg = byId.get(n['server'] as string)!;
      assert.deepEqual([cfg.type, cfg['options'], cfg['optionsType'], cfg['cluster']], ['redis-config', 'EB_REDIS_URL', 'env', false]);
      return n['command'] as string;
    };
    assert.equal(command(toHset), 'hset');
    assert.equal(command(toXadd), 'xadd');
  });

  it('the function node routes sensors/{device}/{measurement} to the point, the latest-value hash and the stream the bench counts', () => {
    const func = only('function')['func'] as string;
    const warnings: string[] = [];
    const run = new Function('msg', 'node', 'env', func) as (msg: unknown, node: unknown, env: unknown) => unknown;
    const node = { warn: (s: string) => warnings.push(s) };
    const env = { get: (k: string) => (k === 'EB_GATEWAY_ID' ? 'gw-bench' : undefined) };
    const out = run({ topic: 'sensors/dev1/climate', payload: { t: 21.5, h: 40, ts: 1736942400123 } }, node, env);
    assert.deepEqual(out, [
      {
        payload: {
          measurement: 'climate',
          fields: { t: 21.5, h: 40 },
          tags: { device: 'dev1', gateway: 'gw-bench' },
          timestamp: 1736942400123,
        },
      },
      { topic: 'eb:latest:{dev1}:climate', payload: ['t', 21.5, 'h', 40] },
      { topic: streamKey('climate'), payload: ['*', 'ts', 1736942400123, 'device', 'dev1', 'gateway', 'gw-bench', 't', 21.5, 'h', 40] },
    ]);
    assert.equal(run({ topic: 'sensors/dev1', payload: { t: 1 } }, node, env), null);
    assert.equal(run({ topic: 'sensors/dev1/climate', payload: 'x' }, node, env), null);
    assert.equal(warnings.length, 2);
  });

  it('pins exact versions of Node-RED and its nodes', () => {
    for (const [name, version] of Object.entries(NODE_RED_PACKAGES)) assert.match(version, /^\d+\.\d+\.\d+$/, name);
  });
});
