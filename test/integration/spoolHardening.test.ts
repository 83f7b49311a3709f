import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startMosquitto, startRedis, startVictoriaMetrics, connectPublisher, waitFor } from '../harness/index.ts';
import { GatewayProcess, nodeCommand } from './support/GatewayProcess.ts';
import { missing } from './support/sequencedLoad.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const DEAD_SINKS = { EDGEBRIDGE_INFLUX_URL: 'http://127.0.0.1:1', EDGEBRIDGE_REDIS_URL: 'redis://127.0.0.1:1' };
const isRoot = process.getuid?.() === 0;

/** Runs the gateway until it exits or `ms` pass (then SIGKILL: code null). */
function runFor(ms: number, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, prefix } = nodeCommand();
  const child = spawn(command, [...prefix, MAIN], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('disk spool hardening with real gateway processes (issue 12 items 6, 8, 10)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  function spoolDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-harden-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it('a second instance on the same spool.dir exits 78 naming the holder PID; a SIGKILLed holder leaves a lock that is taken over', async () => {
    const mq = await startMosquitto();
    cleanups.push(() => mq.destroy());
    const dir = spoolDir();
    const env = { EDGEBRIDGE_MQTT_URL: mq.url, ...DEAD_SINKS, EDGEBRIDGE_SPOOL_DIR: dir };
    const first = await GatewayProcess.start({
      env: { ...env, EDGEBRIDGE_GATEWAY_ID: 'gw-a', EDGEBRIDGE_MQTT_CLIENT_ID: 'gw-a' },
      waitUntil: 'alive',
    });
    cleanups.push(() => first.stop());
    // Bounded: before the lock, the second instance simply ran (and overwrote the first one's records).
    const second = await runFor(15_000, {
      ...env,
      EDGEBRIDGE_GATEWAY_ID: 'gw-b',
      EDGEBRIDGE_MQTT_CLIENT_ID: 'gw-b',
      EDGEBRIDGE_HTTP_HOST: '127.0.0.1',
      EDGEBRIDGE_HTTP_PORT: String(await freePort()),
    });
    assert.equal(second.code, 78, second.stdout + second.stderr);
    assert.ok((second.stdout + second.stderr).includes(`PID ${first.pid}`), second.stdout + second.stderr);
    first.signal('SIGKILL');
    await first.exited();
    assert.ok(fs.existsSync(path.join(dir, 'lock')), 'SIGKILL left the lock file behind');
    const third = await GatewayProcess.start({
      env: { ...env, EDGEBRIDGE_GATEWAY_ID: 'gw-c', EDGEBRIDGE_MQTT_CLIENT_ID: 'gw-c' },
      waitUntil: 'alive',
    });
    cleanups.push(() => third.stop());
    assert.equal((await third.stop()).code, 0);
  });

  it('a segment the service user cannot open (EACCES, gateway run as nobody) exits 78 naming the file and the fix', {
    skip: isRoot ? false : 'needs root to run the gateway as nobody',
  }, async () => {
    const dir = spoolDir();
    fs.chmodSync(dir, 0o777);
    fs.mkdirSync(path.join(dir, 'segments'), { mode: 0o777 });
    fs.mkdirSync(path.join(dir, 'cursors'), { mode: 0o777 });
    fs.chmodSync(path.join(dir, 'segments'), 0o777);
    fs.chmodSync(path.join(dir, 'cursors'), 0o777);
    const seg = path.join(dir, 'segments', '00000000000000000001.seg');
    fs.writeFileSync(seg, 'root-owned, mode 0600', { mode: 0o600 }); // as a root-run backup or `sudo` would leave it
    const { command, prefix } = nodeCommand();
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', command, ...prefix, MAIN], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        EDGEBRIDGE_SPOOL_DIR: dir,
        EDGEBRIDGE_HTTP_PORT: String(await freePort()),
        EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
        ...DEAD_SINKS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 78, out);
    assert.ok(out.includes(seg) && out.includes('EACCES') && out.includes('chown'), out);
  });

  it('a directory where spool.json belongs (EISDIR) exits 78 naming the path', async () => {
    const dir = spoolDir();
    fs.mkdirSync(path.join(dir, 'spool.json'));
    const r = await runFor(15_000, {
      EDGEBRIDGE_SPOOL_DIR: dir,
      EDGEBRIDGE_HTTP_PORT: String(await freePort()),
      EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
      ...DEAD_SINKS,
    });
    assert.equal(r.code, 78, r.stdout + r.stderr);
    assert.ok((r.stdout + r.stderr).includes(path.join(dir, 'spool.json')));
  });

  it('dropOldest with dead sinks, 30 000 messages, restart with real sinks: delivered + counted dropped = sent (the in-flight batch included)', async () => {
    const [mq, rd, vm] = await Promise.all([startMosquitto(), startRedis(), startVictoriaMetrics()]);
    cleanups.push(
      () => mq.destroy(),
      () => rd.destroy(),
      () => vm.destroy(),
    );
    const dir = spoolDir();
    const env = {
      EDGEBRIDGE_MQTT_URL: mq.url,
      EDGEBRIDGE_SPOOL_DIR: dir,
      EDGEBRIDGE_MQTT_CLIENT_ID: 'eb-drop',
      EDGEBRIDGE_SPOOL_MAX_BYTES: '2000000',
      EDGEBRIDGE_SPOOL_SEGMENT_BYTES: '200000',
    };
    let gw = await GatewayProcess.start({ env: { ...env, ...DEAD_SINKS }, waitUntil: 'alive' });
    cleanups.push(() => gw.stop());
    const N = 30_000;
    const pub = await connectPublisher(mq.url);
    await pub.publishMany(
      (function* () {
        for (let i = 0; i < N; i++)
          yield { topic: `sensors/o${i % 10}/drop`, payload: JSON.stringify({ seq: i, ts: Date.now() }), qos: 1 as const };
      })(),
    );
    await pub.end();
    await waitFor(async () => (await gw.status()).messages.accepted >= N, { timeoutMs: 60_000 });
    const before = await gw.status();
    const dropped = Object.fromEntries(before.sinks.map((s) => [s.name, s.pointsDropped]));
    assert.ok(dropped.influx! > 0 && dropped.redis! > 0, JSON.stringify(dropped));
    assert.equal((await gw.stop()).code, 0);
    gw = await GatewayProcess.start({ env: { ...env, EDGEBRIDGE_INFLUX_URL: vm.url, EDGEBRIDGE_REDIS_URL: rd.url } });
    cleanups.push(() => gw.stop());
    const want = N - dropped.influx!;
    const series = await vm.waitForSeries('drop_seq', (s) => new Set(s.flatMap((x) => x.values)).size >= want, 60_000);
    await waitFor(async () => (await gw.sink('influx')).backlog.points === 0 && (await gw.sink('redis')).backlog.points === 0, {
      timeoutMs: 30_000,
    });
    const delivered = new Set(series.flatMap((x) => x.values)).size;
    assert.equal(delivered + dropped.influx!, N, `influx: ${delivered} delivered + ${dropped.influx} dropped`);
    const redis = new Redis(rd.url);
    cleanups.push(async () => redis.disconnect());
    const inRedis = await redis.xlen('eb:stream:{drop}');
    assert.equal(inRedis + dropped.redis!, N, `redis: ${inRedis} delivered + ${dropped.redis} dropped`);
  });

  it('spool.dir on a 2 MiB tmpfs, defaults, real sinks, 30 000 messages: the full disk recovers by itself and everything lands', {
    skip: isRoot ? false : 'needs root to mount a tmpfs',
  }, async () => {
    const [mq, rd, vm] = await Promise.all([startMosquitto(), startRedis(), startVictoriaMetrics()]);
    cleanups.push(
      () => mq.destroy(),
      () => rd.destroy(),
      () => vm.destroy(),
    );
    const dir = spoolDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
    cleanups.push(async () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }));
    const gw = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_URL: vm.url,
        EDGEBRIDGE_REDIS_URL: rd.url,
        EDGEBRIDGE_SPOOL_DIR: dir,
        EDGEBRIDGE_MQTT_CLIENT_ID: 'eb-full',
      },
    });
    cleanups.push(() => gw.stop());
    const N = 30_000;
    const pub = await connectPublisher(mq.url);
    const pad = 'x'.repeat(40);
    await pub.publishMany(
      (function* () {
        for (let i = 0; i < N; i++)
          yield { topic: `sensors/f${i % 10}/full`, payload: JSON.stringify({ seq: i, pad, ts: Date.now() }), qos: 1 as const };
      })(),
    );
    await pub.end();
    const series = await vm.waitForSeries('full_seq', (s) => new Set(s.flatMap((x) => x.values)).size >= N, 60_000);
    assert.deepEqual(
      missing(
        series.flatMap((s) => s.values),
        N,
      ),
      [],
    );
    const redis = new Redis(rd.url);
    cleanups.push(async () => redis.disconnect());
    await waitFor(async () => (await redis.xlen('eb:stream:{full}')) >= N, { timeoutMs: 60_000 });
    const status = (await gw.status()) as unknown as { spool: { diskFullEvents: number; full: boolean } };
    assert.ok(status.spool.diskFullEvents > 0, 'the disk really was full');
    await waitFor(async () => !((await gw.status()) as unknown as { spool: { full: boolean } }).spool.full, { timeoutMs: 10_000 });
    for (const s of (await gw.status()).sinks) assert.equal(s.pointsDropped, 0, `${s.name}: nothing dropped`);
  });
});
