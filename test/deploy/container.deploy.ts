/**
 * `npm run test:container`: Dockerfile.arm64 built by a real Docker engine (Debian's docker.io, a daemon of the
 * test's own) for linux/arm64 (under qemu-user-static through binfmt_misc) and linux/amd64, each on a local stand-in
 * for the official Node 24 image (scripts/deploy/base-image.sh: no registry is reachable here), and run the way
 * docs/operations.md tells: read-only root, a volume for the spool, the image's non-root user, every capability
 * dropped. Checked against the real Mosquitto, Redis and VictoriaMetrics of test/harness on the host's loopback
 * (--network host). Needs root. Prints `timing:` and `size:` lines for docs/operations.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { connectPublisher, freePort, type GatewayStatus, type Servers, startServers, waitFor } from '../harness/index.ts';
import { DockerEngine } from './support/DockerEngine.ts';
import { CACHE, nodeBinary, ROOT, stageBuildContext, timing } from './support/staging.ts';

const ARCHES = (process.env.EDGEBRIDGE_DEPLOY_ARCHES ?? 'amd64,arm64').split(',') as ('amd64' | 'arm64')[];
const NODE_VERSION = process.version;
const BINFMT = '/proc/sys/fs/binfmt_misc';
const baseTag = (arch: string) => `local/node:24-bookworm-slim-${arch}`;
const mb = (bytes: number) => Math.round(bytes / 1e6);

describe('the image under a real container engine', { timeout: 60 * 60_000 }, () => {
  let servers: Servers;
  let engine: DockerEngine;
  let work: string;
  let mountedBinfmt = false;
  let enabledAarch64 = false;
  const forwarding = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'runs as root (dockerd, binfmt_misc)');
    execFileSync('bash', [path.join(ROOT, 'scripts/deploy/prereqs.sh'), 'container'], { stdio: 'inherit' });
    if (ARCHES.includes('arm64')) {
      if (!fs.existsSync(`${BINFMT}/register`)) {
        execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT]);
        mountedBinfmt = true;
      }
      if (!fs.existsSync(`${BINFMT}/qemu-aarch64`)) {
        execFileSync('update-binfmts', ['--enable', 'qemu-aarch64']);
        enabledAarch64 = true;
      }
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-container-'));
    fs.mkdirSync(path.join(work, 'context'));
    stageBuildContext(path.join(work, 'context'));
    servers = await startServers({ mosquitto: { persistence: true } });
    engine = new DockerEngine({ dataRoot: path.join(CACHE, 'docker'), log: path.join(work, 'dockerd.log') });
    timing('dockerd ready', await engine.start());
    for (const arch of new Set(['amd64', ...ARCHES] as const)) {
      if (engine.docker(['image', 'inspect', baseTag(arch)]).status === 0) continue;
      const archive = path.join(work, `base-${arch}.tar`);
      const t0 = performance.now();
      execFileSync(
        'bash',
        [path.join(ROOT, 'scripts/deploy/base-image.sh'), arch, nodeBinary(arch), NODE_VERSION, baseTag(arch), archive],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      );
      engine.ok(['load', '-i', archive], { timeoutMs: 600_000 });
      fs.rmSync(archive);
      timing(`base image ${arch} (debootstrap root + node + npm → docker load)`, performance.now() - t0);
    }
  });

  after(async () => {
    await engine?.stop();
    if (enabledAarch64) spawnSync('update-binfmts', ['--disable', 'qemu-aarch64']);
    if (mountedBinfmt) spawnSync('umount', [BINFMT]);
    await servers?.destroy();
    if (work && !process.env.EDGEBRIDGE_KEEP_TMP) fs.rmSync(work, { recursive: true, force: true });
    assert.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), forwarding, 'the host forwarding setting is unchanged');
  });

  for (const arch of ARCHES) {
    describe(`linux/${arch}`, () => {
      const image = `edgebridge:test-${arch}`;
      const volume = `eb-test-spool-${arch}`;
      const name = (n: number) => `eb-test-${arch}-${n}`;
      let httpPort: number;
      const status = async () =>
        (await (await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(5000) })).json()) as GatewayStatus;
      const inspect = (what: string, format: string) => engine.ok(['inspect', '-f', format, what]);

      /** docker run as docs/operations.md says, hardened; waits until HEALTHCHECK says healthy. */
      const runGateway = async (n: number): Promise<number> => {
        engine.docker(['rm', '-f', name(n)]);
        const t0 = performance.now();
        engine.ok([
          'run',
          '-d',
          '--name',
          name(n),
          '--network',
          'host',
          '--read-only',
          '--cap-drop',
          'ALL',
          '--security-opt',
          'no-new-privileges',
          '--stop-timeout',
          '30',
          '--health-interval',
          '2s',
          // Node under qemu starts ~10× slower than on an arm64 board: the image's 5 s probe timeout is for hardware.
          '--health-timeout',
          arch === 'arm64' ? '60s' : '5s',
          '-v',
          `${volume}:/var/lib/edgebridge/spool`,
          '-e',
          `EDGEBRIDGE_GATEWAY_ID=ctr-${arch}`,
          '-e',
          'EDGEBRIDGE_HTTP_HOST=127.0.0.1',
          '-e',
          `EDGEBRIDGE_HTTP_PORT=${httpPort}`,
          '-e',
          `EDGEBRIDGE_MQTT_URL=${servers.mq.url}`,
          '-e',
          `EDGEBRIDGE_INFLUX_URL=${servers.vm.url}`,
          '-e',
          `EDGEBRIDGE_REDIS_URL=${servers.rd.url}`,
          image,
        ]);
        await waitFor(() => inspect(name(n), '{{.State.Health.Status}}') === 'healthy', {
          timeoutMs: 180_000,
          intervalMs: 250,
          message: () => `not healthy: ${inspect(name(n), '{{json .State}}')}\n${engine.docker(['logs', '--tail', '40', name(n)]).stderr}`,
        });
        return performance.now() - t0;
      };

      before(() => {
        engine.docker(['rm', '-f', name(1), name(2)]);
        engine.docker(['volume', 'rm', volume]);
        const t0 = performance.now();
        engine.ok(
          [
            'build',
            '--network',
            'host',
            '--platform',
            `linux/${arch}`,
            '--build-arg',
            `BASE_IMAGE=${baseTag(arch)}`,
            '--build-arg',
            `BUILD_BASE_IMAGE=${baseTag('amd64')}`,
            '-f',
            path.join(work, 'context/Dockerfile.arm64'),
            '-t',
            image,
            path.join(work, 'context'),
          ],
          { timeoutMs: 1_800_000 },
        );
        timing(`docker build linux/${arch}`, performance.now() - t0);
      });

      after(() => {
        engine.docker(['rm', '-f', name(1), name(2)]);
        engine.docker(['volume', 'rm', volume]);
      });

      it(`is a linux/${arch} image whose Node runs as ${arch === 'amd64' ? 'x64' : 'arm64'}; its size is reported`, () => {
        assert.equal(inspect(image, '{{.Architecture}}'), arch);
        const nodeArch = engine.ok([
          'run',
          '--rm',
          '--network',
          'none',
          '--entrypoint',
          'node',
          image,
          '-p',
          'process.arch + " " + process.version',
        ]);
        assert.equal(nodeArch, `${arch === 'amd64' ? 'x64' : 'arm64'} ${NODE_VERSION}`);
        const size = Number(inspect(image, '{{.Size}}'));
        const base = Number(inspect(baseTag(arch), '{{.Size}}'));
        console.log(`size: ${image} ${mb(size)} MB = base ${baseTag(arch)} ${mb(base)} MB + ${mb(size - base)} MB`);
        assert.ok(size - base <= 30e6, `the image adds ${mb(size - base)} MB to its base (goal: at most 30)`);
      });

      it('runs read-only, as its non-root user, with no capabilities, and HEALTHCHECK reaches healthy', async () => {
        httpPort = await freePort();
        timing(`docker run → healthy (linux/${arch})`, await runGateway(1));
        assert.equal(inspect(name(1), '{{.Config.User}}'), '10001:10001');
        assert.equal(inspect(name(1), '{{.HostConfig.ReadonlyRootfs}}'), 'true');
        assert.equal(inspect(name(1), '{{json .HostConfig.CapDrop}}'), '["ALL"]');
        assert.equal(
          engine.ok(['exec', name(1), 'sh', '-c', 'grep -E "^(Uid|CapEff)" /proc/1/status | tr -s "\\t" " "']),
          'Uid: 10001 10001 10001 10001\nCapEff: 0000000000000000',
        );
        assert.notEqual(engine.docker(['exec', name(1), 'touch', '/opt/edgebridge/x']).status, 0, 'the root is read-only');
      });

      it('data from the broker lands in VictoriaMetrics and Redis', async () => {
        const pub = await connectPublisher(servers.mq.url);
        await pub.publish(`sensors/ctr-${arch}/climate`, '{"t":21.5,"h":40}', 1);
        await pub.end();
        await servers.vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === `ctr-${arch}`), 30_000);
        const redis = new Redis(servers.rd.url);
        try {
          await waitFor(async () => (await redis.hget(`eb:latest:{ctr-${arch}}:climate`, 't')) === '21.5', { timeoutMs: 30_000 });
        } finally {
          redis.disconnect();
        }
      });

      it('docker stop drains and exits 0 within its timeout; a new container on the same volume keeps the spool', async () => {
        const count = 300;
        await servers.vm.stop(); // the InfluxDB sink is down: what arrives is kept in the spool
        const device = `spool-${arch}`;
        const accepted = (await status()).messages.accepted;
        const pub = await connectPublisher(servers.mq.url);
        const ts = Date.now() - count;
        await pub.publishMany(
          Array.from({ length: count }, (_, i) => ({ topic: `sensors/${device}/climate`, payload: JSON.stringify({ t: i, ts: ts + i }) })),
        );
        await pub.end();
        const influxBacklog = async () => (await status()).sinks.find((s) => s.name === 'influx')?.backlog.points ?? 0;
        await waitFor(async () => (await status()).messages.accepted >= accepted + count && (await influxBacklog()) >= count, {
          timeoutMs: 60_000,
        });
        const t0 = performance.now();
        engine.ok(['stop', '-t', '30', name(1)]);
        const stopMs = performance.now() - t0;
        timing(`docker stop (drain, linux/${arch}, influx down, ${count} points spooled)`, stopMs);
        assert.ok(stopMs < 30_000, 'within the stop timeout');
        assert.equal(inspect(name(1), '{{.State.ExitCode}}'), '0');
        assert.match(engine.docker(['logs', name(1)]).stdout, /"msg":"edgebridge stopped"/);
        engine.ok(['rm', name(1)]);
        timing(`docker run → healthy again, same volume (linux/${arch})`, await runGateway(2));
        assert.ok((await influxBacklog()) >= count, 'the new container found the backlog in the spool volume');
        await servers.vm.restart();
        await servers.vm.waitForSeries(
          `climate_t{device="${device}"}`,
          (x) => x.reduce((n, y) => n + y.values.length, 0) === count,
          120_000,
        );
        engine.ok(['stop', '-t', '30', name(2)]);
        assert.equal(inspect(name(2), '{{.State.ExitCode}}'), '0');
      });
    });
  }
});
