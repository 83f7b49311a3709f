import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttConfig, Subscription } from '../../../src/config/Config.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import type { MqttSourceOptions } from '../../../src/source/MqttSource.ts';
import { connectionConfig, MqttSourceGroup, type GroupMember } from '../../../src/source/MqttSourceGroup.ts';
import { SessionMarker } from '../../../src/source/SessionMarker.ts';
import { sharedTopic } from '../../../src/source/sharedTopic.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

const load = (env: Record<string, string> = {}) => loadConfig({ argv: [], env, hostname: 'gw' });

/** A member that records what the group asks of it. */
class FakeMember implements GroupMember {
  connected = false;
  started = 0;
  stoppedWith: (number | undefined)[] = [];
  updates: [readonly Subscription[], readonly Subscription[], readonly string[]][] = [];
  readonly options: MqttSourceOptions;
  constructor(options: MqttSourceOptions) {
    this.options = options;
  }
  start(): void {
    this.started++;
  }
  async stop(deadline?: number): Promise<void> {
    this.stoppedWith.push(deadline);
  }
  updateSubscriptions(next: readonly Subscription[], subscribe: readonly Subscription[], unsubscribe: readonly string[]): void {
    this.updates.push([next, subscribe, unsubscribe]);
  }
}

function group(mqtt: MqttConfig, extra: { deadLetter?: unknown; commands?: unknown; presence?: unknown; marker?: boolean } = {}) {
  const { logger } = memoryLogger('silent');
  const members: FakeMember[] = [];
  const stats = Array.from({ length: mqtt.connections }, () => new SourceStats());
  const g = new MqttSourceGroup({
    config: mqtt,
    router: { route: () => ({ kind: 'unrouted' }) },
    spool: {} as Spool,
    stats,
    logger,
    collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    ...(extra.deadLetter ? { deadLetter: extra.deadLetter as never } : {}),
    ...(extra.commands ? { commands: extra.commands as never } : {}),
    ...(extra.presence ? { presence: extra.presence as never } : {}),
    ...(extra.marker ? { sessionMarker: (i: number) => new SessionMarker({ file: `/nowhere/mqtt-session-${i}.json` }) } : {}),
    createMember: (o) => {
      const m = new FakeMember(o);
      members.push(m);
      return m;
    },
  });
  return { g, members, stats };
}

describe('mqtt.connections', () => {
  it('auto: 1 with ack=write, 16 with ack=fsync, 1 with ack=fsync and a Sparkplug route', () => {
    assert.equal(load().mqtt.connections, 1);
    assert.equal(load({ EDGEBRIDGE_SPOOL_ACK: 'fsync' }).mqtt.connections, 16);
    const sparkplug = JSON.stringify([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'sparkplug' }]);
    assert.equal(load({ EDGEBRIDGE_SPOOL_ACK: 'fsync', EDGEBRIDGE_ROUTES: sparkplug }).mqtt.connections, 1);
    assert.equal(load({ EDGEBRIDGE_MQTT_CONNECTIONS: '8' }).mqtt.connections, 8);
  });

  it('auto stays 1 on a spool whose gateway held one persistent session (an upgrade must not strand it)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-conn-'));
    try {
      const env = { EDGEBRIDGE_SPOOL_ACK: 'fsync', EDGEBRIDGE_SPOOL_DIR: dir };
      const clientId = load(env).mqtt.clientId;
      assert.equal(load(env).mqtt.connections, 16, 'a new installation');
      const marker = (id: string, persistent: boolean) =>
        fs.writeFileSync(
          path.join(dir, 'mqtt-session.json'),
          JSON.stringify({ clientId: id, broker: 'mqtt://b', persistent, subscribedAt: '' }),
        );
      marker(clientId, true);
      assert.equal(load(env).mqtt.connections, 1, 'the session of the one connection is kept');
      assert.equal(load({ ...env, EDGEBRIDGE_MQTT_CONNECTIONS: '8' }).mqtt.connections, 8, 'an explicit count is the operator’s choice');
      marker(clientId, false);
      assert.equal(load(env).mqtt.connections, 16, 'a clean session strands nothing');
      marker('another-id', true);
      assert.equal(load(env).mqtt.connections, 16, 'a session of another client id is not this one');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses 0, 33, words and more than one with Sparkplug, naming the key', () => {
    for (const bad of ['0', '33', 'many', '2.5']) {
      assert.throws(
        () => load({ EDGEBRIDGE_MQTT_CONNECTIONS: bad }),
        (e: unknown) => e instanceof ConfigError && e.key === 'mqtt.connections' && /"auto" or an integer from 1 to 32/.test(e.message),
      );
    }
    const sparkplug = JSON.stringify([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'sparkplug' }]);
    assert.throws(
      () => load({ EDGEBRIDGE_MQTT_CONNECTIONS: '2', EDGEBRIDGE_ROUTES: sparkplug }),
      (e: unknown) => e instanceof ConfigError && e.key === 'mqtt.connections' && /format sparkplug/.test(e.message),
    );
  });
});

describe('connectionConfig', () => {
  it('one connection: the configured client id, filters and status topic, unchanged', () => {
    const mqtt = load().mqtt;
    assert.equal(connectionConfig(mqtt, 0), mqtt);
  });

  it('several: <clientId>-<i>, filters shared under the client id, the status topic on connection 0 only', () => {
    const mqtt = load({ EDGEBRIDGE_MQTT_CONNECTIONS: '3', EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'sensors/#:1,$share/fleet/plc/+:1' }).mqtt;
    const c = [0, 1, 2].map((i) => connectionConfig(mqtt, i));
    assert.deepEqual(
      c.map((x) => x.clientId),
      ['edgebridge-gw-0', 'edgebridge-gw-1', 'edgebridge-gw-2'],
    );
    for (const x of c) {
      assert.deepEqual(x.subscriptions, [
        { topic: '$share/edgebridge-gw/sensors/#', qos: 1 },
        // Already shared (several gateway instances in one group): kept, never prefixed twice.
        { topic: '$share/fleet/plc/+', qos: 1 },
      ]);
    }
    assert.deepEqual(
      c.map((x) => x.statusTopic),
      ['edgebridge/gw/status', '', ''],
    );
  });

  it('sharedTopic keeps a $share filter as it is', () => {
    assert.equal(sharedTopic('a/#', 'g'), '$share/g/a/#');
    assert.equal(sharedTopic('$share/x/a/#', 'g'), '$share/x/a/#');
  });
});

describe('MqttSourceGroup', () => {
  it('builds one member per connection, each with its own stats and session marker; dead letter, commands and presence on connection 0', () => {
    const deadLetter = { attach() {} };
    const commands = { attach() {} };
    const presence = { subscriptions: [] };
    const { g, members, stats } = group(load({ EDGEBRIDGE_MQTT_CONNECTIONS: '3' }).mqtt, { deadLetter, commands, presence, marker: true });
    assert.equal(members.length, 3);
    assert.deepEqual(
      members.map((m) => m.options.stats),
      stats,
    );
    assert.deepEqual(
      members.map((m) => m.options.sessionMarker?.file),
      ['/nowhere/mqtt-session-0.json', '/nowhere/mqtt-session-1.json', '/nowhere/mqtt-session-2.json'],
    );
    assert.deepEqual(
      members.map((m) => [
        (m.options.deadLetter as unknown) === deadLetter,
        m.options.commands === commands,
        (m.options.presence as unknown) === presence,
      ]),
      [
        [true, true, true],
        [false, false, false],
        [false, false, false],
      ],
    );
    assert.deepEqual(
      g.connections.map((c) => c.clientId),
      ['edgebridge-gw-0', 'edgebridge-gw-1', 'edgebridge-gw-2'],
    );
  });

  it('starts every member, stops them all with the deadline, is connected only while every member is', async () => {
    const { g, members } = group(load({ EDGEBRIDGE_MQTT_CONNECTIONS: '2' }).mqtt);
    g.start();
    assert.deepEqual(
      members.map((m) => m.started),
      [1, 1],
    );
    assert.equal(g.connected, false);
    members[0]!.connected = true;
    assert.equal(g.connected, false);
    members[1]!.connected = true;
    assert.equal(g.connected, true);
    await g.stop(1234);
    assert.deepEqual(
      members.map((m) => m.stoppedWith),
      [[1234], [1234]],
    );
  });

  it('a reload subscribes and unsubscribes the shared filters on every connection', () => {
    const { g, members } = group(load({ EDGEBRIDGE_MQTT_CONNECTIONS: '2' }).mqtt);
    g.updateSubscriptions(
      [
        { topic: 'a/#', qos: 1 },
        { topic: '$share/x/b/#', qos: 0 },
      ],
      [{ topic: 'a/#', qos: 1 }],
      ['old/#'],
    );
    for (const m of members) {
      assert.deepEqual(m.updates, [
        [
          [
            { topic: '$share/edgebridge-gw/a/#', qos: 1 },
            { topic: '$share/x/b/#', qos: 0 },
          ],
          [{ topic: '$share/edgebridge-gw/a/#', qos: 1 }],
          ['$share/edgebridge-gw/old/#'],
        ],
      ]);
    }
  });

  it('one connection: the filters of a reload go as they are', () => {
    const { g, members } = group(load().mqtt);
    g.updateSubscriptions([{ topic: 'a/#', qos: 1 }], [{ topic: 'a/#', qos: 1 }], ['old/#']);
    assert.deepEqual(members[0]!.updates, [[[{ topic: 'a/#', qos: 1 }], [{ topic: 'a/#', qos: 1 }], ['old/#']]]);
    assert.equal(members[0]!.options.config.clientId, 'edgebridge-gw');
  });
});
