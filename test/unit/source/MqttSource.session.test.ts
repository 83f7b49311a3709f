import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { MqttSource } from '../../../src/source/MqttSource.ts';
import { SessionMarker, type MarkerFs } from '../../../src/source/SessionMarker.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { statusReport } from '../../../src/health/statusReport.ts';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

/** A broker that grants every subscription at once. */
class GrantingClient extends EventEmitter {
  connected = false;
  stream = undefined;
  handleMessage = (): void => undefined;
  subscribe(topic: string, opts: { qos: number }, cb: (error: Error | null, granted?: { topic: string; qos: number }[]) => void): void {
    queueMicrotask(() => cb(null, [{ topic, qos: opts.qos }]));
  }
  publish(): void {}
  publishAsync(): Promise<void> {
    return Promise.resolve();
  }
  endAsync(): Promise<void> {
    return Promise.resolve();
  }
  reconnect(): void {}
  end(): void {}
  connack(sessionPresent: boolean): void {
    this.connected = true;
    this.emit('connect', { sessionPresent });
  }
  drop(): void {
    this.connected = false;
    this.emit('close');
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), 'condition not met within 1 s');
}

function gateway(marker: SessionMarker | undefined, env: Record<string, string> = {}) {
  const client = new GrantingClient();
  const stats = new SourceStats();
  const { logger, lines } = memoryLogger('info');
  const source = new MqttSource({
    config: loadConfig({ argv: [], env: { EDGEBRIDGE_GATEWAY_ID: 'gw', ...env }, hostname: 'gw' }).mqtt,
    router: { route: () => ({ kind: 'unrouted' }) },
    spool: { append: () => true, syncBeforeAck: false } as unknown as Spool,
    stats,
    logger,
    collapsed: new CollapsingLog({ logger, intervalMs: 10_000 }),
    connect: () => client as unknown as MqttClient,
    sessionMarker: marker,
  });
  source.start();
  const warnings = () => lines().filter((l) => l.level === 40 && l.msg !== 'mqtt disconnected');
  return { client, stats, source, lines, warnings };
}

function viewOf(stats: SourceStats): GatewayView {
  return {
    gatewayId: 'gw',
    version: 't',
    startedAt: 0,
    source: stats,
    sinks: [],
    spool: () => ({ type: 'memory', entries: 0, bytes: 0, maxBytes: 1, full: false }),
    shuttingDown: () => false,
  };
}

describe('MqttSource: a broker that lost the session', () => {
  it('is warned about with what it means, counted, and shown in /status and /metrics; a new installation is not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-session-'));
    const marker = new SessionMarker({ file: path.join(dir, 'mqtt-session.json') });
    const first = gateway(marker);
    first.client.connack(false);
    await tick();
    assert.equal(first.stats.sessionsLost, 0, 'the first connect of a new installation');
    assert.ok(first.lines().some((l) => l.msg === 'mqtt subscribed'));
    await until(() => fs.existsSync(marker.file));
    assert.equal(JSON.parse(fs.readFileSync(marker.file, 'utf8')).persistent, true);
    first.client.drop();
    first.client.connack(false); // a broker restarted without persistence
    await tick();
    assert.equal(first.stats.sessionsLost, 1);
    const [warning] = first.warnings();
    assert.equal(
      warning?.msg,
      "the broker lost this gateway's session: messages published while the gateway was away were dropped by the broker; check the broker's persistence",
    );
    assert.equal(warning?.knownFrom, 'this process');
    assert.equal(warning?.clientId, 'edgebridge-gw');
    const status = statusReport(viewOf(first.stats));
    assert.equal(status.mqtt.sessionsLost, 1);
    assert.equal(status.mqtt.lastSessionLoss?.reason, 'lost');
    assert.match(status.mqtt.lastSessionLoss?.at ?? '', /^\d{4}-\d\d-\d\dT/);
    const metrics = await new GatewayMetrics(viewOf(first.stats)).registry.metrics();
    assert.match(metrics, /^edgebridge_mqtt_session_lost_total 1$/m);
    first.client.drop();
    first.client.connack(true);
    await tick();
    assert.equal(first.stats.sessionsLost, 1, 'sessionPresent: nothing lost');
    await first.source.stop(Date.now());

    // The next run of the same installation: the marker says the broker had the session.
    const second = gateway(marker);
    second.client.connack(false);
    await tick();
    assert.equal(second.stats.sessionsLost, 1);
    assert.equal(second.warnings()[0]?.knownFrom, 'earlier run');
    assert.equal(statusReport(viewOf(second.stats)).mqtt.lastSessionLoss?.knownFrom, 'earlier run');
    await second.source.stop(Date.now());

    // A changed client id (renamed host) starts a new session: not a loss.
    const renamed = gateway(marker, { EDGEBRIDGE_GATEWAY_ID: 'gw2' });
    renamed.client.connack(false);
    await tick();
    assert.equal(renamed.stats.sessionsLost, 0);
    await renamed.source.stop(Date.now());
  });

  it('with mqtt.clean=true a sessionPresent=false is what was asked for', async () => {
    const g = gateway(undefined, { EDGEBRIDGE_MQTT_CLEAN: 'true' });
    g.client.connack(false);
    await tick();
    g.client.drop();
    g.client.connack(false);
    await tick();
    assert.equal(g.stats.sessionsLost, 0);
    assert.equal(statusReport(viewOf(g.stats)).mqtt.lastSessionLoss, null);
    await g.source.stop(Date.now());
  });

  it('a marker that cannot be written is a warning, not a failure', async () => {
    const failing: MarkerFs = {
      readFileSync: () => {
        throw new Error('ENOENT');
      },
      writeFile: () => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })),
      rename: () => Promise.resolve(),
    };
    const g = gateway(new SessionMarker({ file: '/nowhere/mqtt-session.json', fs: failing }));
    g.client.connack(false);
    await until(() => g.warnings().length > 0);
    const w = g.warnings().find((l) => String(l.msg).startsWith('could not write the session marker'));
    assert.ok(w, JSON.stringify(g.lines()));
    assert.match(String(w.err), /EACCES/);
    assert.equal(g.source.connected, true);
    await g.source.stop(Date.now());
  });
});
