import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemdNotifier } from '../../../src/health/SystemdNotifier.ts';
import { Gateway } from '../../../src/Gateway.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { FakeSink } from '../../fakes/FakeSink.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';
import { FakeNotifierTimers } from '../../fakes/FakeNotifierTimers.ts';
import { waitFor } from '../../harness/waitFor.ts';

function recorder(): { sent: string[][]; send: (a: readonly string[]) => Promise<void> } {
  const sent: string[][] = [];
  return { sent, send: async (a) => void sent.push([...a]) };
}

const pings = (sent: string[][]): number => sent.filter((s) => s[0] === 'WATCHDOG=1').length;

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// The watchdog's ticks run on FakeNotifierTimers: a loaded machine delays real timers and stalls the loop, which
// the notifier rightly treats as lag (it skips the ping), so real timers cannot say how many pings are due.
describe('SystemdNotifier', () => {
  it('does nothing at all without NOTIFY_SOCKET', async () => {
    const { sent, send } = recorder();
    const timers = new FakeNotifierTimers();
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '20000' }, logger: memoryLogger().logger, send, timers });
    assert.equal(n.enabled, false);
    n.ready('up');
    await timers.advance(50);
    n.stopping();
    assert.deepEqual(sent, []);
    assert.equal(timers.active, 0);
  });

  it('READY=1 with a one-line status, WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 ends the pings', async () => {
    const { sent, send } = recorder();
    const timers = new FakeNotifierTimers();
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '100000' },
      logger: memoryLogger().logger,
      send,
      timers,
    });
    assert.equal(n.pingIntervalMs, 50);
    n.ready('gw: spool open\nhealth on :8080');
    assert.deepEqual(sent[0], ['READY=1', 'STATUS=gw: spool open health on :8080']);
    await timers.advance(49);
    assert.equal(pings(sent), 0);
    await timers.advance(131);
    assert.equal(pings(sent), 3, 'at 50, 100 and 150 ms');
    n.stopping();
    n.stopping();
    const count = sent.length;
    assert.deepEqual(sent.at(-1), ['STOPPING=1', 'STATUS=stopping']);
    assert.equal(timers.active, 0, 'the ping timer is cleared');
    await timers.advance(120);
    assert.equal(sent.length, count, 'no pings after STOPPING=1, and STOPPING=1 only once');
  });

  it('the default timers (setInterval, performance.now, the loop-delay histogram) ping, and stop with STOPPING=1', async () => {
    const { sent, send } = recorder();
    // maxLagMs: a loaded machine may stall this loop longer than the 50 ms interval, which would skip pings.
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '100000' },
      logger: memoryLogger().logger,
      send,
      maxLagMs: 60_000,
    });
    n.ready('up');
    await waitFor(() => pings(sent) >= 2, { message: () => `${pings(sent)} pings` });
    n.stopping();
    const count = sent.length;
    await sleep(120);
    assert.equal(sent.length, count, 'no pings after STOPPING=1');
  });

  it('RELOADING=1 with MONOTONIC_USEC, then READY=1, in that order even when each delivery is slow', async () => {
    const started: string[] = [];
    const delivered: string[][] = [];
    const held = new Map<string, () => void>();
    const slow = async (a: readonly string[]): Promise<void> => {
      started.push(a[0]!);
      const d = deferred();
      held.set(a[0]!, d.resolve);
      await d.promise;
      delivered.push([...a]);
    };
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x' },
      logger: memoryLogger().logger,
      send: slow,
      timers: new FakeNotifierTimers(),
    });
    n.reloading();
    n.ready('up');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['RELOADING=1'], 'READY=1 waits for RELOADING=1 to be delivered');
    held.get('RELOADING=1')!();
    await waitFor(() => started.length === 2);
    assert.deepEqual(started, ['RELOADING=1', 'READY=1']);
    held.get('READY=1')!();
    await waitFor(() => delivered.length === 2);
    assert.deepEqual(
      delivered.map((s) => s[0]),
      ['RELOADING=1', 'READY=1'],
    );
    assert.match(delivered[0]![1]!, /^MONOTONIC_USEC=\d+$/);
    n.stopping();
  });

  it('no watchdog pings when WATCHDOG_PID names another process, or WATCHDOG_USEC is unset or invalid', async () => {
    for (const env of [
      { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '40000', WATCHDOG_PID: '1' },
      { NOTIFY_SOCKET: '/run/x' },
      { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: 'soon' },
    ]) {
      const { sent, send } = recorder();
      const { logger, lines } = memoryLogger();
      const timers = new FakeNotifierTimers();
      const n = new SystemdNotifier({ env, logger, send, pid: 4242, timers });
      n.ready('up');
      await timers.advance(60);
      n.stopping();
      assert.deepEqual(
        sent.map((s) => s[0]),
        ['READY=1', 'STOPPING=1'],
        JSON.stringify(env),
      );
      assert.equal(timers.active, 0, JSON.stringify(env));
      if (env.WATCHDOG_USEC === 'soon') assert.ok(lines().some((l) => l.WATCHDOG_USEC === 'soon'));
    }
    const { sent, send } = recorder();
    const timers = new FakeNotifierTimers();
    const mine = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '40000', WATCHDOG_PID: '4242' },
      logger: memoryLogger().logger,
      send,
      pid: 4242,
      timers,
    });
    mine.ready('up');
    await timers.advance(70);
    mine.stopping();
    assert.equal(pings(sent), 3, 'WATCHDOG_PID = our pid: pings every 20 ms');
  });

  it('skips the ping of a tick that runs late by more than maxLagMs (the loop was blocked), and pings again once it recovers', async () => {
    const { sent, send } = recorder();
    const { logger, lines } = memoryLogger();
    const timers = new FakeNotifierTimers();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '200000' }, logger, send, maxLagMs: 60, timers });
    n.ready('up');
    await timers.advance(30);
    timers.block(150); // the tick due at 100 ms runs at 180 ms: 80 ms late
    await timers.advance(0);
    assert.equal(pings(sent), 0, 'the ping after the block is skipped');
    const warning = lines().find((l) => l.msg === 'event loop blocked: systemd watchdog ping skipped');
    assert.ok(warning);
    assert.equal(warning.lagMs, 80);
    await timers.advance(100);
    n.stopping();
    assert.equal(pings(sent), 1, 'a healthy interval pings again');
  });

  it('skips a ping when the loop-delay histogram saw a stall longer than maxLagMs since the last tick, even if the tick itself is on time', async () => {
    const { sent, send } = recorder();
    const { logger, lines } = memoryLogger();
    const timers = new FakeNotifierTimers();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '200000' }, logger, send, maxLagMs: 60, timers });
    n.ready('up');
    timers.lagMs = 61;
    await timers.advance(100);
    assert.equal(pings(sent), 0);
    assert.equal(lines().find((l) => l.msg === 'event loop blocked: systemd watchdog ping skipped')?.lagMs, 61);
    timers.lagMs = 60; // not longer than maxLagMs
    await timers.advance(100);
    assert.equal(pings(sent), 1);
    await timers.advance(100);
    n.stopping();
    assert.equal(pings(sent), 2, 'the histogram is reset at each tick');
  });

  it('starts no second ping while one is still being delivered', async () => {
    const calls: string[] = [];
    let release: (() => void) | undefined;
    const send = async (a: readonly string[]): Promise<void> => {
      calls.push(a[0]!);
      if (a[0] !== 'WATCHDOG=1') return;
      const d = deferred();
      release = d.resolve;
      await d.promise;
    };
    const timers = new FakeNotifierTimers();
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '100000' },
      logger: memoryLogger().logger,
      send,
      timers,
    });
    n.ready('up');
    await timers.advance(200);
    assert.equal(
      calls.filter((c) => c === 'WATCHDOG=1').length,
      1,
      'the ticks at 100, 150 and 200 ms find the ping of 50 ms still running',
    );
    release!();
    await timers.advance(50);
    n.stopping();
    assert.equal(calls.filter((c) => c === 'WATCHDOG=1').length, 2);
  });

  it('a failing delivery is logged once and never throws', async () => {
    const { logger, lines } = memoryLogger();
    let attempts = 0;
    const timers = new FakeNotifierTimers();
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '20000' },
      logger,
      send: async () => {
        attempts++;
        throw new Error('spawn systemd-notify ENOENT');
      },
      timers,
    });
    n.ready('up');
    await timers.advance(60);
    n.stopping();
    await new Promise((r) => setImmediate(r));
    assert.equal(attempts, 8, 'READY=1, six pings (every 10 ms), STOPPING=1');
    const failures = lines().filter((l) => l.msg === 'systemd notification failed');
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]!.err), /ENOENT/);
  });
});

describe('Gateway and its ServiceNotifier', () => {
  it('ready() once the health server answers (broker unreachable), stopping() first thing on stop', async () => {
    const config = loadConfig({
      argv: [],
      env: {
        EDGEBRIDGE_GATEWAY_ID: 'gw',
        EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
        EDGEBRIDGE_HTTP_PORT: '0',
        EDGEBRIDGE_SHUTDOWN_TIMEOUT_MS: '500',
        EDGEBRIDGE_SPOOL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eb-notify-gw-')),
      },
    });
    const events: string[] = [];
    let gateway: Gateway | undefined;
    const healthAt = async () => (await fetch(`http://127.0.0.1:${gateway!.health.port}/healthz`)).status;
    const pending: Promise<void>[] = [];
    gateway = new Gateway({
      config,
      logger: memoryLogger().logger,
      version: 't',
      exit: (code) => events.push(`exit ${code}`),
      createSink: (c) => new FakeSink(c.name),
      notifier: {
        ready: (status) => {
          events.push(`ready ${status}`);
          pending.push(healthAt().then((s) => void events.push(`health at ready: ${s}`)));
        },
        stopping: () => events.push(`stopping, shutting down already: ${gateway!.view.shuttingDown()}`),
      },
    });
    await gateway.start();
    await Promise.all(pending);
    assert.match(events[0]!, /^ready gw: spool open, health on 127\.0\.0\.1:\d+$/);
    assert.equal(events[1], 'health at ready: 200');
    await gateway.stop();
    assert.deepEqual(events.slice(2), ['stopping, shutting down already: false', 'exit 0']);
  });
});
