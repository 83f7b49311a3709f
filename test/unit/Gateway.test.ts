import { describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Gateway } from '../../src/Gateway.ts';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { FakeSink } from '../fakes/FakeSink.ts';
import { memoryLogger } from '../fakes/silentLogger.ts';

class RecordingSink extends FakeSink {
  readonly events: string[];
  failStop = false;
  constructor(name: string, events: string[]) {
    super(name);
    this.events = events;
  }
  override async start(): Promise<void> {
    this.events.push(`start ${this.name}`);
  }
  override async stop(): Promise<void> {
    this.events.push(`stop ${this.name}`);
    if (this.failStop) throw new Error('boom');
  }
}

function config() {
  return loadConfig({
    argv: [],
    env: {
      EDGEBRIDGE_GATEWAY_ID: 'gw',
      // Nothing listens there: the source keeps retrying in the background, which is what start-up must tolerate.
      EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
      EDGEBRIDGE_HTTP_PORT: '0',
      EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '500',
      EDGEBRIDGE_SPOOL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eb-gw-')),
    },
  });
}

describe('Gateway (composition root)', () => {
  it('starts with the broker unreachable, stops every part even when one fails, and reports it through exit', async () => {
    const events: string[] = [];
    const sinks = new Map<string, RecordingSink>();
    const exits: number[] = [];
    const { logger, lines } = memoryLogger();
    const gateway = new Gateway({
      config: config(),
      logger,
      version: 't',
      exit: (code) => exits.push(code),
      createSink: (c) => {
        const s = new RecordingSink(c.name, events);
        sinks.set(c.name, s);
        return s;
      },
    });
    await gateway.start();
    assert.deepEqual(events, ['start influx', 'start redis']);
    const health = await fetch(`http://127.0.0.1:${gateway.health.port}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://127.0.0.1:${gateway.health.port}/readyz`);
    assert.equal(ready.status, 503, 'not ready while the broker is unreachable');

    sinks.get('influx')!.failStop = true;
    await gateway.stop();
    await gateway.stop(); // idempotent
    assert.deepEqual(events.slice(2).sort(), ['stop influx', 'stop redis']);
    assert.deepEqual(exits, [1], 'a part that failed to stop makes the exit code 1, once');
    const failed = lines().find((l) => l.msg === 'part failed to stop');
    assert.equal(failed?.part, 'sink influx');
    assert.equal(lines().at(-1)?.msg, 'edgebridge stopped');
  });
});
