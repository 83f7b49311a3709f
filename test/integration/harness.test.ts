// Proves the test harness itself: private servers on free loopback ports, restarts that keep data,
// kills that kill, scripted HTTP faults, and no server left running when the test process ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Redis } from 'ioredis';
import { connect, connectAsync } from 'mqtt';
import {
  connectPublisher,
  freePort,
  isProcessAlive,
  liveServerPids,
  ServerProcess,
  startFaultyHttp,
  startMosquitto,
  startRedis,
  startVictoriaMetrics,
  tcpProbe,
  waitFor,
} from '../harness/index.ts';

const harnessIndex = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../harness/index.ts');

/** Every server pid any test here saw, checked dead at the end. */
const seenPids = new Set<number>();
function remember(pid: number | undefined): number {
  assert.ok(pid !== undefined && pid > 0, 'server has a pid');
  seenPids.add(pid);
  return pid;
}

function portIsBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

describe('freePort', () => {
  test('hands out distinct, bindable loopback ports', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length);
    for (const p of ports.slice(0, 5)) assert.ok(await portIsBindable(p), `port ${p} bindable`);
  });
});

function startRedisOnPort(port: number): Promise<ServerProcess> {
  return ServerProcess.launch({
    name: 'redis-fixed-port',
    command: '/usr/bin/redis-server',
    debianPackage: 'redis-server',
    port,
    args: (p, dir) => ['--port', String(p), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    ready: tcpProbe(),
  });
}

describe('ServerProcess', () => {
  test('a missing binary names the Debian package to install', async () => {
    await assert.rejects(
      ServerProcess.launch({
        name: 'nothing',
        command: '/nonexistent/edgebridge-no-such-server',
        debianPackage: 'no-such-package',
        args: () => [],
        ready: tcpProbe(),
      }),
      /apt-get install -y .*no-such-package/,
    );
  });

  test('refuses a fixed port that another server already answers on', async () => {
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startRedisOnPort(port), (err: Error) => err.name === 'PortBusyError');
    } finally {
      blocker.close();
    }
  });

  test('a server that exits before it is ready fails with its log lines', async () => {
    await assert.rejects(
      ServerProcess.launch({
        name: 'bad-redis',
        command: '/usr/bin/redis-server',
        debianPackage: 'redis-server',
        args: (port) => ['--port', String(port), '--no-such-option', 'x'],
        ready: tcpProbe(),
        readyTimeoutMs: 5_000,
      }),
      (err: Error) => /exited .*before it was ready/.test(err.message) && /no-such-option/i.test(err.message),
    );
  });
});

describe('Redis', () => {
  test('appendonly data survives stop/restart and kill/restart on the same port', async () => {
    const redis = await startRedis({ appendonly: true });
    try {
      const port = redis.port;
      assert.equal(redis.url, `redis://127.0.0.1:${port}`);
      assert.notEqual(port, 6379);
      const firstPid = remember(redis.pid);

      const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await client.connect();
      assert.equal(await client.set('harness:key', 'kept'), 'OK');
      client.disconnect();

      await redis.restart(); // SIGTERM, then start on the same port and dir
      const secondPid = remember(redis.pid);
      assert.notEqual(secondPid, firstPid);
      assert.equal(isProcessAlive(firstPid), false);
      assert.equal(redis.port, port);

      const c2 = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await c2.connect();
      assert.equal(await c2.get('harness:key'), 'kept');
      await c2.set('harness:after-restart', 'also kept'); // appendfsync always: acknowledged = on disk
      c2.disconnect();

      await redis.kill();
      assert.equal(redis.pid, undefined);
      assert.equal(isProcessAlive(secondPid), false, 'SIGKILLed redis is gone');
      assert.equal(await tcpProbe()(port), false, 'nothing listens after kill');

      await redis.restart();
      remember(redis.pid);
      const c3 = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await c3.connect();
      assert.deepEqual(await c3.mget('harness:key', 'harness:after-restart'), ['kept', 'also kept']);
      c3.disconnect();
    } finally {
      await redis.destroy();
    }
  });
});

describe('VictoriaMetrics', () => {
  test('a written series is read back and survives a SIGTERM restart', async () => {
    const vm = await startVictoriaMetrics();
    try {
      remember(vm.pid);
      const ts = 1_700_000_000_000_000_000n; // Nov 2023 in ns: kept only thanks to -retentionPeriod=100y (default 1 month)
      const body = [
        `harness_climate,device=d1,site=a\\ b t=21.5,h=40i ${ts}`,
        `harness_climate,device=d1,site=a\\ b t=22.5,h=41i ${ts + 1_000_000_000n}`,
      ].join('\n');
      const res = await fetch(`${vm.url}/api/v2/write?org=o&bucket=b&precision=ns`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', authorization: 'Token ignored' },
        body,
      });
      assert.equal(res.status, 204);

      const series = await vm.waitForSeries('harness_climate_t', (s) => s.length === 1 && s[0]!.values.length === 2, 10_000);
      assert.deepEqual(series[0]!.values, [21.5, 22.5]);
      assert.deepEqual(series[0]!.timestamps, [1_700_000_000_000, 1_700_000_001_000]); // stored in ms
      assert.equal(series[0]!.metric['site'], 'a b');

      const before = vm.pid;
      await vm.restart();
      remember(vm.pid);
      assert.notEqual(vm.pid, before);
      assert.equal(await vm.countSamples('harness_climate_t'), 2);
      assert.equal(await vm.countSamples('{__name__=~"harness_climate_.*"}'), 4);

      await vm.kill();
      assert.equal(isProcessAlive(before!), false);
    } finally {
      await vm.destroy();
    }
  });
});

describe('Mosquitto', () => {
  test('persistence keeps QoS 1 messages for an offline persistent session across a SIGTERM restart', async () => {
    const broker = await startMosquitto({ persistence: true });
    try {
      assert.equal(broker.url, `mqtt://127.0.0.1:${broker.port}`);
      const firstPid = remember(broker.pid);
      const clientId = 'harness-persistent-sub';

      const sub = await connectAsync(broker.url, { clientId, clean: false, reconnectPeriod: 0 }, false);
      await sub.subscribeAsync('harness/#', { qos: 1 });
      await sub.endAsync();

      // More than Mosquitto's default max_queued_messages (1000): proves the harness lifts that limit.
      const total = 1500;
      const pub = await connectPublisher(broker.url);
      const sent = await pub.publishMany(
        Array.from({ length: total }, (_, i) => ({ topic: `harness/d${i % 10}`, payload: String(i) })),
        { qos: 1 },
      );
      assert.equal(sent, total);
      await pub.end();

      await broker.restart(); // SIGTERM: saves mosquitto.db; then same port, same dir
      assert.notEqual(remember(broker.pid), firstPid);
      assert.equal(isProcessAlive(firstPid), false);

      const received = new Set<string>();
      const sub2 = connect(broker.url, { clientId, clean: false, reconnectPeriod: 0 });
      sub2.on('message', (_topic, payload) => received.add(payload.toString()));
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        sub2.once('connect', resolve);
        sub2.once('error', reject);
      });
      assert.equal(connack.sessionPresent, true, 'the persistent session survived the restart');
      await waitFor(() => received.size === total, {
        timeoutMs: 10_000,
        message: () => `received ${received.size} of ${total} queued messages after restart`,
      });
      await sub2.endAsync();

      await broker.kill();
      assert.equal(broker.pid, undefined);
    } finally {
      await broker.destroy();
    }
  });
});

describe('faultyHttp', () => {
  test('answers /api/v2/write as scripted and records decoded (gzip) bodies', async () => {
    const server = await startFaultyHttp();
    try {
      server.enqueue(
        { status: 503, headers: { 'retry-after': '2' }, body: '{"code":"unavailable"}' },
        { status: 429, headers: { 'retry-after': '1' } },
        { status: 400, body: '{"code":"invalid","message":"partial write"}', delayMs: 50 },
      );
      const write = (body: string | Buffer, gzip: boolean) =>
        fetch(`${server.url}/api/v2/write?org=o&bucket=b&precision=ns`, {
          method: 'POST',
          headers: gzip ? { 'content-encoding': 'gzip' } : {},
          body: gzip ? zlib.gzipSync(body) : body,
        });

      const r1 = await write('m v=1 1\nm v=2 2\n', true);
      assert.equal(r1.status, 503);
      assert.equal(r1.headers.get('retry-after'), '2');
      assert.equal(await r1.text(), '{"code":"unavailable"}');
      const r2 = await write('m v=3 3', false);
      assert.equal(r2.status, 429);
      const started = Date.now();
      const r3 = await write('m v=4 4', false);
      assert.equal(r3.status, 400);
      assert.ok(Date.now() - started >= 45, 'delayed answer');
      const r4 = await write('m v=5 5', true);
      assert.equal(r4.status, 204, 'default once the queue is empty');
      assert.equal((await fetch(`${server.url}/health`)).status, 404);

      const reqs = await server.waitForRequests(4);
      assert.equal(reqs[0]!.contentEncoding, 'gzip');
      assert.deepEqual(reqs[0]!.lines, ['m v=1 1', 'm v=2 2']);
      assert.equal(reqs[0]!.query.get('bucket'), 'b');
      assert.equal(reqs[1]!.body, 'm v=3 3');
      assert.equal(reqs[3]!.body, 'm v=5 5');
      assert.deepEqual(
        reqs.map((r) => r.response.status),
        [503, 429, 400, 204],
      );
      assert.equal(server.requests.length, 5);

      // A corrupt gzip body is refused with 400 (as VictoriaMetrics does) and recorded.
      const bad = await fetch(`${server.url}/api/v2/write`, {
        method: 'POST',
        headers: { 'content-encoding': 'gzip' },
        body: 'not gzip',
      });
      assert.equal(bad.status, 400);
      assert.ok(server.requests.at(-1)!.decodeError);

      // A reset connection is a network error for the client.
      server.enqueue({ status: 0, destroy: true });
      await assert.rejects(write('m v=6 6', false));
    } finally {
      await server.close();
    }
  });
});

/** Run a Node 24 child that starts a Redis through the harness, prints its pid, then does `then`. */
function childWithRedis(then: 'exit' | 'hang'): { pid: Promise<{ pid: number; dir: string }>; child: ReturnType<typeof spawn> } {
  const code = `
    const { startRedis } = await import(${JSON.stringify(harnessIndex)});
    const r = await startRedis();
    console.log('PID ' + r.pid + ' DIR ' + r.dir);
    ${then === 'hang' ? 'setInterval(() => {}, 1000);' : '/* exit without stopping it */'}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = new Promise<{ pid: number; dir: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /PID (\d+) DIR (\S+)\n/.exec(out);
      if (m) resolve({ pid: Number(m[1]), dir: m[2]! });
    });
    child.once('exit', (code) => {
      if (!/PID \d+/.test(out)) reject(new Error(`child exited (${code}) before printing a pid: ${out}`));
    });
  });
  return { pid, child };
}

describe('no orphans', () => {
  test('servers are killed when the test process exits, is SIGTERMed or is SIGKILLed', async () => {
    const cases: Array<{ end: 'exit' | 'hang'; signal?: NodeJS.Signals }> = [
      { end: 'exit' },
      { end: 'hang', signal: 'SIGTERM' },
      { end: 'hang', signal: 'SIGKILL' }, // no exit handler runs: setpriv --pdeathsig does the work
    ];
    await Promise.all(
      cases.map(async ({ end, signal }) => {
        const { pid, child } = childWithRedis(end);
        const { pid: redisPid, dir } = await pid;
        if (signal) child.kill(signal);
        await waitFor(() => !isProcessAlive(redisPid), {
          timeoutMs: 5_000,
          message: `redis ${redisPid} still alive after its parent ${signal ? `got ${signal}` : 'exited'}`,
        });
        if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
        // The exit hook removed the temp dir; only a SIGKILLed parent leaves it behind.
        if (signal === 'SIGKILL') fs.rmSync(dir, { recursive: true, force: true });
        else assert.equal(fs.existsSync(dir), false, `temp dir ${dir} removed by the exit hook`);
      }),
    );
  });
});

after(() => {
  assert.deepEqual(liveServerPids(), [], 'no harness server is still running');
  for (const pid of seenPids) assert.equal(isProcessAlive(pid), false, `server pid ${pid} is gone`);
});
