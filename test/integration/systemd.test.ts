import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/waitFor.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * The systemd side of deployment, without systemd running (`systemd-analyze` works offline; the tools come with
 * Debian's `systemd` package): the unit's sandbox score and syntax, scripts/install.sh into a DESTDIR, and the
 * gateway's sd_notify messages received on a real unix datagram socket.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const UNIT = path.join(ROOT, 'systemd', 'edgebridge.service');
const APP = '/opt/edgebridge';

function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...options });
  if (r.error) throw new Error(`${command}: ${r.error.message} (systemd-analyze comes with Debian's systemd package)`);
  return r;
}

/** `Key=value` lines of the unit (all values of repeated keys). */
function unitSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe('systemd unit', () => {
  const settings = unitSettings(fs.readFileSync(UNIT, 'utf8'));
  const get = (key: string) => settings.get(key) ?? [];

  it('systemd-analyze security --offline rates the sandbox at an exposure of 1.5 or lower', () => {
    const r = run('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT]);
    const m = /Overall exposure level for edgebridge\.service: (\d+(?:\.\d+)?)/.exec(r.stdout);
    assert.ok(m, `no exposure line in: ${r.stdout.slice(-500)} ${r.stderr}`);
    const exposure = Number(m[1]);
    assert.ok(
      exposure <= 1.5,
      `exposure ${exposure} > 1.5:\n${r.stdout
        .split('\n')
        .filter((l) => l.includes('✗'))
        .join('\n')}`,
    );
  });

  it('declares what the gateway relies on', () => {
    assert.deepEqual(get('Type'), ['notify']);
    assert.deepEqual(get('NotifyAccess'), ['all'], 'systemd-notify is a child process');
    assert.ok(Number(get('WatchdogSec')[0]) > 0);
    assert.deepEqual(get('Restart'), ['on-failure']);
    assert.deepEqual(get('RestartPreventExitStatus'), ['78'], 'a config error is not restarted');
    assert.match(
      get('ExecStart')[0]!,
      new RegExp(`^${APP}/node_modules/node/bin/node ${APP}/dist/bundle/edgebridge\\.mjs --config /etc/edgebridge/edgebridge\\.json$`),
    );
    assert.ok(get('Environment').includes('"NODE_OPTIONS=--max-old-space-size=96 --max-semi-space-size=2"'), 'quoted: one variable');
    assert.ok(get('Environment').includes('EDGEBRIDGE_SPOOL_DIR=%S/edgebridge/spool'));
    assert.deepEqual(get('StateDirectory'), ['edgebridge']);
    assert.deepEqual(get('ConfigurationDirectory'), ['edgebridge']);
    assert.deepEqual(
      get('LoadCredential').map((c) => c.split(':')[0]),
      ['mqtt_password', 'influx_token', 'redis_password', 'redis_sentinel_password'],
      'the credential names the gateway reads from $CREDENTIALS_DIRECTORY',
    );
    assert.ok(get('MemoryMax').length === 1);
    assert.deepEqual(get('DynamicUser'), ['yes']);
  });
});

describe('scripts/install.sh into a DESTDIR', () => {
  let destdir: string;

  before(() => {
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'bundle', 'edgebridge.mjs')), 'build first (npm run build)');
    destdir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-install-'));
    const r = run('bash', [path.join(ROOT, 'scripts', 'install.sh')], { env: { ...process.env, DESTDIR: destdir } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });

  after(() => {
    if (destdir && !process.env.EDGEBRIDGE_KEEP_TMP) fs.rmSync(destdir, { recursive: true, force: true });
  });

  it('lays out the app, the unit, the config and the credentials', () => {
    const d = (p: string) => path.join(destdir, p);
    for (const file of [
      `${APP}/dist/main.js`,
      `${APP}/dist/bundle/edgebridge.mjs`, // what the unit's ExecStart runs
      `${APP}/package.json`,
      `${APP}/config/edgebridge.example.json`,
      `${APP}/README.md`,
      `${APP}/docs/operations.md`, // the unit's Documentation= and the README's links point into docs/
      `${APP}/node_modules/mqtt/package.json`,
      `${APP}/node_modules/node/bin/node`,
      '/etc/systemd/system/edgebridge.service',
      '/etc/edgebridge/edgebridge.json',
    ]) {
      assert.ok(fs.existsSync(d(file)), `${file} installed`);
    }
    assert.ok(!fs.existsSync(d(`${APP}/node_modules/typescript`)), 'no dev dependencies');
    assert.equal(fs.readFileSync(d('/etc/systemd/system/edgebridge.service'), 'utf8'), fs.readFileSync(UNIT, 'utf8'));
    assert.equal(fs.statSync(d('/etc/edgebridge/credentials')).mode & 0o777, 0o700);
    for (const name of ['mqtt_password', 'influx_token', 'redis_password', 'redis_sentinel_password']) {
      const st = fs.statSync(d(`/etc/edgebridge/credentials/${name}`));
      assert.equal(st.mode & 0o777, 0o600, `${name} is root-only`);
    }
    assert.equal(fs.statSync(d('/etc/edgebridge/edgebridge.json')).mode & 0o777, 0o644, 'readable by the dynamic user');
  });

  it('the installed app runs on the installed Node 24: --version and check-config', () => {
    const node = path.join(destdir, APP, 'node_modules/node/bin/node');
    // The entry point the unit runs (ExecStart): the bundle, which still reads package.json for the version.
    const main = path.join(destdir, APP, 'dist/bundle/edgebridge.mjs');
    const nodeVersion = run(node, ['--version']);
    assert.match(nodeVersion.stdout, /^v24\./);
    const v = run(node, [main, '--version'], { env: { PATH: process.env.PATH } });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    const check = run(node, [main, 'check-config', '--config', path.join(destdir, '/etc/edgebridge/edgebridge.json')], {
      env: { PATH: process.env.PATH },
    });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /configuration OK/);
  });

  it('systemd-analyze verify accepts the installed unit (ExecStart pointed at the DESTDIR copy)', () => {
    const installed = fs.readFileSync(path.join(destdir, '/etc/systemd/system/edgebridge.service'), 'utf8');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-verify-'));
    const copy = path.join(dir, 'edgebridge.service');
    fs.writeFileSync(
      copy,
      installed.replaceAll(`${APP}/`, `${path.join(destdir, APP)}/`).replaceAll(`${APP}\n`, `${path.join(destdir, APP)}\n`),
    );
    const r = run('systemd-analyze', ['verify', copy]);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const complaints = r.stderr.split('\n').filter((l) => l.includes('edgebridge.service'));
    assert.deepEqual(complaints, [], 'no warnings about the unit');
  });

  it('a second run upgrades the app but keeps the edited config and the credentials', () => {
    const config = path.join(destdir, '/etc/edgebridge/edgebridge.json');
    const edited = JSON.stringify({ gatewayId: 'edited-by-operator' });
    fs.writeFileSync(config, edited);
    fs.writeFileSync(path.join(destdir, '/etc/edgebridge/credentials/influx_token'), 'tok');
    const r = run('bash', [path.join(ROOT, 'scripts', 'install.sh')], { env: { ...process.env, DESTDIR: destdir } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /keeping the existing/);
    assert.equal(fs.readFileSync(config, 'utf8'), edited);
    assert.equal(fs.readFileSync(path.join(destdir, '/etc/edgebridge/credentials/influx_token'), 'utf8'), 'tok');
    assert.ok(fs.existsSync(path.join(destdir, `${APP}.previous/dist/main.js`)), 'the previous version is kept');
    assert.ok(fs.existsSync(path.join(destdir, `${APP}/dist/main.js`)));
  });
});

/** A unix datagram socket bound at a temp path (python3), printing each datagram on a line. */
class NotifySocket {
  readonly path: string;
  readonly #child: ChildProcess;
  #received = '';

  constructor(dir: string) {
    this.path = path.join(dir, 'notify.sock');
    const script = [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      'print("LISTENING", flush=True)',
      'while True:',
      '    print(s.recv(65536).decode().replace("\\n", " | "), flush=True)',
    ].join('\n');
    this.#child = spawn('python3', ['-u', '-c', script, this.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#child.stdout!.on('data', (d: Buffer) => (this.#received += d.toString()));
  }

  /** Datagrams so far, one per line (newlines inside a datagram shown as " | "). */
  get messages(): string[] {
    return this.#received.split('\n').filter((l) => l !== '' && l !== 'LISTENING');
  }

  async listening(): Promise<void> {
    await waitFor(() => this.#received.includes('LISTENING'), { timeoutMs: 10_000, message: 'python3 notify socket did not start' });
  }

  close(): void {
    this.#child.kill('SIGKILL');
  }
}

describe('sd_notify on a real notify socket', () => {
  it('READY=1 once the health server listens (broker unreachable), WATCHDOG=1 pings, RELOADING=1 … READY=1 on SIGHUP, STOPPING=1 on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-notify-'));
    const socket = new NotifySocket(dir);
    try {
      await socket.listening();
      const gw = await GatewayProcess.start({
        env: {
          NOTIFY_SOCKET: socket.path,
          WATCHDOG_USEC: '600000', // a ping every 300 ms
          // Nothing listens there: READY=1 must not wait for the broker.
          EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
        },
        waitUntil: 'alive',
      });
      await waitFor(() => socket.messages.some((m) => m.startsWith('READY=1')), {
        timeoutMs: 10_000,
        message: () => `no READY=1; got ${JSON.stringify(socket.messages)}; ${gw.stdout.slice(-1500)}`,
      });
      const ready = socket.messages.find((m) => m.startsWith('READY=1'))!;
      assert.match(ready, /STATUS=gw-test: spool open, health on 127\.0\.0\.1:\d+/);
      assert.equal((await gw.get('/readyz')).status, 503, 'READY=1 came although the broker is unreachable');
      await waitFor(() => socket.messages.filter((m) => m === 'WATCHDOG=1').length >= 2, {
        timeoutMs: 10_000,
        message: () => `fewer than 2 WATCHDOG=1; got ${JSON.stringify(socket.messages)}`,
      });
      // systemctl reload (ExecReload= sends SIGHUP): RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
      gw.signal('SIGHUP');
      await waitFor(
        () => socket.messages.slice(socket.messages.findIndex((m) => m.startsWith('RELOADING=1'))).some((m) => m.startsWith('READY=1')),
        {
          timeoutMs: 10_000,
          message: () => `no RELOADING=1 … READY=1; got ${JSON.stringify(socket.messages)}`,
        },
      );
      assert.match(socket.messages.find((m) => m.startsWith('RELOADING=1'))!, /MONOTONIC_USEC=\d+/);
      const exit = await gw.stop();
      assert.equal(exit.code, 0);
      await waitFor(() => socket.messages.some((m) => m.startsWith('STOPPING=1')), {
        timeoutMs: 5000,
        message: () => `no STOPPING=1; got ${JSON.stringify(socket.messages)}`,
      });
      const kinds = socket.messages.filter((m) => !m.startsWith('BARRIER=1')).map((m) => m.split(/[ |]/)[0]);
      assert.equal(kinds[0], 'READY=1');
      assert.equal(kinds.at(-1), 'STOPPING=1', 'nothing after STOPPING=1');
      assert.ok(gw.logs().some((l) => l.msg === 'systemd watchdog pings started' && l.intervalMs === 300));
    } finally {
      socket.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
