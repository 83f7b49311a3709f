import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { SourceStatsSum } from '../../../src/stats/SourceStatsSum.ts';
import { readiness } from '../../../src/health/readiness.ts';
import { retiredSessions } from '../../../src/source/retiredSessions.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';

describe('SourceStatsSum', () => {
  it('sums the counters and merges the rejection reasons of every connection', () => {
    const a = new SourceStats();
    const b = new SourceStats();
    a.received = 3;
    b.received = 4;
    a.accepted = 2;
    b.accepted = 4;
    a.reject('bad_json');
    b.reject('bad_json');
    b.reject('too_large');
    a.connects = 1;
    b.connects = 2;
    const sum = new SourceStatsSum([a, b]);
    assert.equal(sum.received, 7);
    assert.equal(sum.accepted, 6);
    assert.equal(sum.rejected, 3);
    assert.deepEqual(
      [...sum.rejectedByReason],
      [
        ['bad_json', 2],
        ['too_large', 1],
      ],
    );
    assert.equal(sum.connects, 3);
    // Counters read live: a connection's increment shows at once.
    a.received++;
    assert.equal(sum.received, 8);
  });

  it('connected only while every connection is; the error shown is a disconnected one', () => {
    const a = new SourceStats();
    const b = new SourceStats();
    a.connected = true;
    a.lastError = 'old hiccup';
    b.lastError = 'connect ECONNREFUSED';
    const sum = new SourceStatsSum([a, b]);
    assert.equal(sum.connected, false);
    assert.equal(sum.connectedCount, 1);
    assert.equal(sum.lastError, 'connect ECONNREFUSED');
    b.connected = true;
    assert.equal(sum.connected, true);
  });

  it('the last session loss is the newest of any connection', () => {
    const a = new SourceStats();
    const b = new SourceStats();
    a.lastSessionLoss = { reason: 'lost', knownFrom: 'this process', awayMs: 1, at: 10 };
    b.lastSessionLoss = { reason: 'expired', knownFrom: 'this process', awayMs: 2, at: 20 };
    assert.equal(new SourceStatsSum([a, b]).lastSessionLoss?.at, 20);
  });

  it('readiness names the connections that are down', () => {
    const a = new SourceStats();
    const b = new SourceStats();
    a.connected = true;
    const view = {
      source: new SourceStatsSum([a, b]),
      connections: () => [
        { clientId: 'gw-0', connected: true, received: 0, connects: 1 },
        { clientId: 'gw-1', connected: false, received: 0, connects: 0 },
      ],
      sinks: [],
      spool: () => ({ full: false }),
      shuttingDown: () => false,
    } as unknown as GatewayView;
    assert.deepEqual(readiness(view).problems, ['mqtt: not connected (1 of 2 connections: gw-1)']);
  });
});

describe('retiredSessions', () => {
  it('finds the persistent sessions of client ids the gateway no longer connects with', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-retired-'));
    try {
      const write = (name: string, clientId: string, persistent = true) =>
        fs.writeFileSync(path.join(dir, name), JSON.stringify({ clientId, broker: 'mqtt://b', persistent, subscribedAt: 'x' }));
      write('mqtt-session.json', 'edgebridge-gw');
      write('mqtt-session-0.json', 'edgebridge-gw-0');
      write('mqtt-session-1.json', 'edgebridge-gw-1', false);
      write('mqtt-session-3.json', 'edgebridge-gw-3');
      fs.writeFileSync(path.join(dir, 'spool.json'), '{}');
      const found = retiredSessions(dir, ['edgebridge-gw-0', 'edgebridge-gw-1']).map((r) => [path.basename(r.file), r.clientId]);
      assert.deepEqual(found, [
        ['mqtt-session-3.json', 'edgebridge-gw-3'],
        ['mqtt-session.json', 'edgebridge-gw'],
      ]);
      assert.deepEqual(retiredSessions(path.join(dir, 'missing'), []), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
