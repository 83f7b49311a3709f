/**
 * The slow-reader attack of issue 12 against the real HealthServer in its own process, on loopback: 70 connections
 * that each pipeline 100 `GET /metrics` and never read (reconnecting when dropped), while a probe asks `/healthz` on a
 * fresh connection every 100 ms, as a kubelet or the container healthcheck does. Bounded: 70 sockets at a time
 * (each replaced after 1–2 s), 80 probes (9 s on a quiet machine).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./support/healthServerChild.ts', import.meta.url));
const ATTACKERS = 70;
const PIPELINED = 100;
const PROBES = 80;
const PROBE_EVERY_MS = 100;
const PROBE_BUDGET_MS = 100;

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(message);
  });
}

/** One probe: connect, GET /healthz, read the whole answer; its duration, or the failure. */
function probe(port: number): Promise<{ ok: boolean; ms: number; why?: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (ok: boolean, why?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, ms: performance.now() - started, ...(why ? { why } : {}) });
    };
    const timer = setTimeout(() => done(false, 'timeout 1000 ms'), 1000);
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n'));
    socket.on('data', (d) => {
      text += d.toString();
      if (/\r\n\r\n\{"alive":true\}\n/.test(text)) done(text.startsWith('HTTP/1.1 200'));
    });
    socket.on('error', (e) => done(false, e.message));
    socket.on('close', () => done(false, `closed: ${JSON.stringify(text.slice(0, 40))}`));
  });
}

describe('health server under a slow-reader attack (no http.token)', () => {
  let child: ChildProcess;
  let port: number;
  before(async () => {
    child = fork(CHILD, [], {
      execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/eb-prof'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    port = ((await new Promise((resolve) => child.once('message', resolve))) as { port: number }).port;
  });
  after(async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.send('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    child.kill('SIGKILL');
  });

  it('keeps answering /healthz (none timed out at 1 s, the median within 100 ms), with bounded memory', async () => {
    // Warm up (first /metrics renders, JIT) before the baseline.
    for (let i = 0; i < 5; i++) await probe(port);
    for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    const before = await ask<{ rss: number }>(child, 'rss');
    const request = 'GET /metrics HTTP/1.1\r\nhost: attacker\r\n\r\n'.repeat(PIPELINED);
    let stopping = false;
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const attack = (): void => {
      if (stopping) return;
      connections++;
      const s = net.connect(port, '127.0.0.1');
      sockets.add(s);
      s.pause(); // never read: the server's answers pile up
      s.on('connect', () => s.write(request));
      // A paused socket never sees the server's FIN: replace each one after 1–2 s, so that the attack keeps 70
      // connections coming (about 45 new ones a second) whether or not the server closes them.
      setTimeout(() => s.destroy(), 1000 + Math.random() * 1000).unref();
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        setTimeout(attack, 20); // come back, as an attacker would
      });
    };
    for (let i = 0; i < ATTACKERS; i++) attack();
    await new Promise((r) => setTimeout(r, 1000)); // let the attack settle in

    const results: { ok: boolean; ms: number; why?: string }[] = [];
    let peakRss = 0;
    let halfTimePeakRss = 0;
    // A number of probes, not a time: a loaded machine stretches the rounds, and each round still counts.
    for (let round = 0; round < PROBES; round++) {
      const next = new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
      results.push(await probe(port));
      peakRss = Math.max(peakRss, (await ask<{ rss: number }>(child, 'rss')).rss);
      if (round < PROBES / 2) halfTimePeakRss = peakRss;
      await next;
    }
    const end = await ask<{ rss: number; cap: { open: number; evicted: number; refused: number } }>(child, 'rss');
    stopping = true;
    for (const s of sockets) s.destroy();

    const failed = results.filter((r) => !r.ok);
    const slow = results.filter((r) => r.ok && r.ms > PROBE_BUDGET_MS);
    const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
    const p = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
    const mb = (b: number): number => Math.round(b / 1e5) / 10;
    const figures = {
      probes: results.length,
      failed: failed.length,
      over100ms: slow.length,
      p50ms: p(0.5),
      p99ms: p(0.99),
      maxMs: p(1),
      rssBeforeMB: mb(before.rss),
      rssPeakMB: mb(peakRss),
      rssGrowthMB: mb(peakRss - before.rss),
      rssGrowthSecondHalfMB: mb(peakRss - halfTimePeakRss),
      attackerConnections: connections,
      cap: end.cap,
      firstFailures: failed.slice(0, 3).map((f) => f.why),
    };
    console.log(`# slow-reader attack: ${JSON.stringify(figures)}`);
    assert.equal(failed.length, 0, JSON.stringify(figures));
    // Before the limits every probe timed out (1 s, a kubelet's default timeout), checked above. The typical probe
    // keeps the budget; the tail is the shared machine's: on 2 cores at load 10–17, 1–6 of 66–80 probes took
    // 100–400 ms with the limits in place (an unattacked server probed beside it had 3 such at the same load).
    assert.ok(p(0.5) <= PROBE_BUDGET_MS, JSON.stringify(figures));
    assert.ok(peakRss - before.rss < 60e6, `RSS grew ${mb(peakRss - before.rss)} MB: ${JSON.stringify(figures)}`);
  });
});
