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

function recorder(): { sent: string[][]; send: (a: readonly string[]) => Promise<void> } {
  const sent: string[][] = [];
  return { sent, send: async (a) => void sent.push([...a]) };
}

describe('SystemdNotifier', () => {
  it('does nothing at all without NOTIFY_SOCKET', async () => {
    const { sent, send } = recorder();
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '20000' }, logger: memoryLogger().logger, send });
    assert.equal(n.enabled, false);
    n.ready('up');
    await sleep(50);
    n.stopping();
    assert.deepEqual(sent, []);
  });

  it('READY=1 with a one-line status, WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 ends the pings', async () => {
    const { sent, send } = recorder();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '100000' }, logger: memoryLogger().logger, send });
    assert.equal(n.pingIntervalMs, 50);
    n.ready('gw: spool open\nhealth on :8080');
    assert.deepEqual(sent[0], ['READY=1', 'STATUS=gw: spool open health on :8080']);
    await sleep(180);
    const pings = sent.filter((s) => s[0] === 'WATCHDOG=1').length;
    assert.ok(pings >= 2 && pings <= 4, `${pings} pings in 180 ms at 50 ms`);
    n.stopping();
    n.stopping();
    const count = sent.length;
    assert.deepEqual(sent.at(-1), ['STOPPING=1', 'STATUS=stopping']);
    await sleep(120);
    assert.equal(sent.length, count, 'no pings after STOPPING=1, and STOPPING=1 only once');
  });

  it('RELOADING=1 with MONOTONIC_USEC, then READY=1, in that order even when each delivery is slow', async () => {
    const sent: string[][] = [];
    const slow = async (a: readonly string[]): Promise<void> => {
      await sleep(a[0] === 'RELOADING=1' ? 60 : 5);
      sent.push([...a]);
    };
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x' }, logger: memoryLogger().logger, send: slow });
    n.reloading();
    n.ready('up');
    await sleep(150);
    assert.deepEqual(
      sent.map((s) => s[0]),
      ['RELOADING=1', 'READY=1'],
    );
    assert.match(sent[0]![1]!, /^MONOTONIC_USEC=\d+$/);
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
      const n = new SystemdNotifier({ env, logger, send, pid: 4242 });
      n.ready('up');
      await sleep(60);
      n.stopping();
      assert.deepEqual(
        sent.map((s) => s[0]),
        ['READY=1', 'STOPPING=1'],
        JSON.stringify(env),
      );
      if (env.WATCHDOG_USEC === 'soon') assert.ok(lines().some((l) => l.WATCHDOG_USEC === 'soon'));
    }
    const { sent, send } = recorder();
    const mine = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '40000', WATCHDOG_PID: '4242' },
      logger: memoryLogger().logger,
      send,
      pid: 4242,
    });
    mine.ready('up');
    await sleep(70);
    mine.stopping();
    assert.ok(
      sent.some((s) => s[0] === 'WATCHDOG=1'),
      'WATCHDOG_PID = our pid: pings',
    );
  });

  it('skips a ping after the event loop was blocked longer than maxLagMs, and pings again once it recovers', async () => {
    const { sent, send } = recorder();
    const { logger, lines } = memoryLogger();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '200000' }, logger, send, maxLagMs: 60 });
    n.ready('up');
    await sleep(30); // the lag histogram has sampled once
    const end = Date.now() + 150;
    while (Date.now() < end) {
      // Block the loop for 150 ms: longer than maxLagMs.
    }
    await sleep(40);
    assert.equal(sent.filter((s) => s[0] === 'WATCHDOG=1').length, 0, 'the ping after the block is skipped');
    assert.ok(lines().some((l) => l.msg === 'event loop blocked: systemd watchdog ping skipped'));
    await sleep(230);
    n.stopping();
    assert.ok(
      sent.some((s) => s[0] === 'WATCHDOG=1'),
      'a healthy interval pings again',
    );
  });

  it('a failing delivery is logged once and never throws', async () => {
    const { logger, lines } = memoryLogger();
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '20000' },
      logger,
      send: async () => {
        throw new Error('spawn systemd-notify ENOENT');
      },
    });
    n.ready('up');
    await sleep(60);
    n.stopping();
    await sleep(5);
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
