import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { readiness } from '../../../src/health/readiness.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

/** A broker that took the connection and then stopped answering (SIGSTOP, a dead link): nothing ever completes. */
class SilentBrokerClient extends EventEmitter {
  connected = true;
  stream = undefined;
  handleMessage = (): void => undefined;
  subscriptions: ((error: Error | null, granted?: { topic: string; qos: number }[]) => void)[] = [];
  subscribe(_topic: string, _opts: unknown, cb: (error: Error | null) => void): void {
    this.subscriptions.push(cb);
  }
  publish(): void {}
  publishAsync(): Promise<never> {
    return new Promise(() => {});
  }
  endAsync(): Promise<never> {
    return new Promise(() => {});
  }
  ended = false;
  end(): void {
    this.ended = true;
  }
}

function source(client: SilentBrokerClient, stats = new SourceStats()) {
  const { logger } = memoryLogger('silent');
  return new MqttSource({
    config: loadConfig({ argv: [], env: {}, hostname: 'gw' }).mqtt,
    router: { route: () => ({ kind: 'unrouted' }) },
    spool: { append: () => true, flush: () => true, syncBeforeAck: false } as unknown as Spool,
    stats,
    logger,
    collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    connect: () => client as unknown as MqttClient,
  });
}

describe('MqttSource.stop against a broker that no longer answers', () => {
  it('keeps within the shutdown deadline (was a fixed 2 s + 2 s)', async (t) => {
    // Mocked clock and timeouts: on a loaded machine real timers fire late, which says nothing about the budget.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_700_000_000_000 });
    const client = new SilentBrokerClient();
    const s = source(client);
    s.start();
    const started = Date.now();
    let stoppedAt: number | undefined;
    void s.stop(started + 1000).then(() => (stoppedAt = Date.now()));
    for (let ms = 0; ms < 1000 && stoppedAt === undefined; ms += 10) {
      await new Promise((r) => setImmediate(r));
      t.mock.timers.tick(10);
    }
    await new Promise((r) => setImmediate(r));
    assert.ok(stoppedAt !== undefined, 'stop never returned within the 1000 ms left');
    const took = stoppedAt - started;
    assert.ok(took <= 600, `stop took ${took} ms with 1000 ms left`);
    assert.equal(client.ended, true, 'forced end once the wait is over');
  });
});

describe('a subscription interrupted by a disconnect', () => {
  it('is not a refusal: readiness says "not connected", not "subscription refused"', () => {
    const client = new SilentBrokerClient();
    const stats = new SourceStats();
    const s = source(client, stats);
    s.start();
    client.emit('connect', { sessionPresent: false });
    assert.equal(client.subscriptions.length, 1);
    // mqtt.js on a closed connection: connected goes false, 'close' fires, pending subscribe callbacks get an error.
    client.connected = false;
    client.emit('close');
    client.subscriptions[0]!(new Error('Connection closed'));
    assert.equal(stats.subscriptionErrors, 0);
    const view = {
      gatewayId: 'gw',
      version: 't',
      startedAt: 0,
      source: stats,
      sinks: [],
      spool: () => ({ type: 'memory', entries: 0, bytes: 0, maxBytes: 1, full: false }),
      shuttingDown: () => false,
    } as never;
    const problems = readiness(view).problems;
    assert.ok(
      problems.some((p) => p.startsWith('mqtt: not connected')),
      JSON.stringify(problems),
    );
    assert.ok(!problems.some((p) => p.includes('refused')), JSON.stringify(problems));
    // A real refusal on a live connection still counts.
    client.connected = true;
    client.emit('connect', { sessionPresent: false });
    client.subscriptions[1]!(null, [{ topic: 'sensors/#', qos: 128 }]);
    assert.equal(stats.subscriptionErrors, 1);
    void s.stop(Date.now());
  });
});
