/**
 * `npm run test:systemd`: the gateway installed with scripts/install.sh (as docs/operations.md tells a user) into a
 * Debian bookworm root booted by a real systemd 252 under systemd-nspawn, checked against that systemd with the
 * real Mosquitto, Redis and VictoriaMetrics of test/harness on the host's loopback (the container shares the host's
 * network). Needs root. Prints `timing:` lines (boot, ready, watchdog restart, drain) for docs/operations.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { connectPublisher, freePort, type Servers, startServers, waitFor } from '../harness/index.ts';
import { NspawnMachine } from './support/NspawnMachine.ts';
import { CACHE, ROOT, stageCheckout, timing } from './support/staging.ts';

const UNIT = 'edgebridge.service';
const CONFIG = '/etc/edgebridge/edgebridge.json';
const MQTT_PASSWORD = `mqtt-pw-${process.pid}-s3cr3t`;
const INFLUX_TOKEN = `influx-tok-${process.pid}-s3cr3t`;
const unitText = fs.readFileSync(path.join(ROOT, 'systemd', 'edgebridge.service'), 'utf8');
const unitSeconds = (key: string) => Number(new RegExp(`^${key}=(\\d+)$`, 'm').exec(unitText)?.[1]);

describe('the unit under a real systemd (systemd-nspawn)', { timeout: 30 * 60_000 }, () => {
  let servers: Servers;
  let machine: NspawnMachine;
  let work: string;
  let tarball: string;
  let httpPort: number;
  const config = () => ({
    gatewayId: 'nspawn-gw',
    mqtt: { url: servers.mq.url, username: 'edgebridge', subscriptions: [{ topic: 'sensors/#', qos: 1 }] },
    sinks: { influx: { url: servers.vm.url, org: 'edgebridge', bucket: 'edgebridge' }, redis: { url: servers.rd.url } },
    http: { port: httpPort },
  });
  const http = (p: string) => fetch(`http://127.0.0.1:${httpPort}${p}`, { signal: AbortSignal.timeout(5000) });
  const journal = () => machine.sh(`journalctl -u ${UNIT} -o cat --no-pager`);
  const showUnit = (...p: string[]) => machine.show(UNIT, ...p);

  before(async () => {
    assert.ok(fs.existsSync(path.join(ROOT, 'dist/main.js')), 'npm run build first');
    execFileSync('bash', [path.join(ROOT, 'scripts/deploy/prereqs.sh'), 'systemd'], { stdio: 'inherit' });
    const root = execFileSync(
      'bash',
      [path.join(ROOT, 'scripts/deploy/debian-root.sh'), 'systemd-amd64', 'amd64', 'systemd,systemd-sysv,dbus,nodejs', 'npm'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ).trim();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-nspawn-'));
    fs.mkdirSync(path.join(work, 'src'));
    tarball = stageCheckout(path.join(work, 'src'));
    fs.mkdirSync(path.join(CACHE, 'npm-cache'), { recursive: true });
    servers = await startServers({ mosquitto: { persistence: true, users: { edgebridge: MQTT_PASSWORD, tester: 'tester' } } });
    httpPort = await freePort();
    machine = new NspawnMachine({
      root,
      name: `eb-test-${process.pid}`,
      bindReadOnly: { [path.join(work, 'src')]: '/root/edgebridge' },
      bind: { [path.join(CACHE, 'npm-cache')]: '/root/.npm' },
      consoleLog: path.join(work, 'console.log'),
    });
    timing('boot (nspawn start → systemctl is-system-running)', await machine.boot());
    // cgroup v1 here: nspawn mounts the memory controller read-only, so MemoryMax= would not be applied.
    machine.sh('mount -o remount,bind,rw /sys/fs/cgroup/memory 2>/dev/null || true; systemctl daemon-reexec');
    const installed = machine.sh('cd /root/edgebridge && scripts/install.sh', { timeoutMs: 600_000 });
    const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.ok(installed.includes(`install: installed ${version}. Next:`), installed);
    machine.sh(`cat > ${CONFIG}`, { input: JSON.stringify(config(), null, 2) });
    machine.sh(`printf %s '${MQTT_PASSWORD}' > /etc/edgebridge/credentials/mqtt_password`);
    machine.sh(`printf %s '${INFLUX_TOKEN}' > /etc/edgebridge/credentials/influx_token`);
    const t0 = performance.now();
    machine.sh(`systemctl enable --now ${UNIT}`); // Type=notify: returns once READY=1 came
    timing('ready (systemctl start → READY=1, active)', performance.now() - t0);
    await waitFor(async () => (await http('/readyz')).status === 200, { timeoutMs: 60_000, intervalMs: 100 });
    timing('ready (systemctl start → /readyz 200)', performance.now() - t0);
  });

  after(async () => {
    if (machine && process.env.EDGEBRIDGE_KEEP_TMP) console.log(journal());
    const t0 = performance.now();
    await machine?.shutdown();
    console.log(`container powered off in ${Math.round(performance.now() - t0)} ms`);
    await servers?.destroy();
    if (work && !process.env.EDGEBRIDGE_KEEP_TMP) fs.rmSync(work, { recursive: true, force: true });
  });

  it('reaches active (running) through READY=1, with the READY status line', () => {
    const s = showUnit('ActiveState', 'SubState', 'Type', 'StatusText', 'NRestarts', 'User');
    assert.equal(s.ActiveState, 'active');
    assert.equal(s.SubState, 'running');
    assert.equal(s.Type, 'notify');
    assert.match(s.StatusText!, /^nspawn-gw: spool open, health on 127\.0\.0\.1:\d+$/);
    assert.equal(s.NRestarts, '0');
  });

  it('/readyz answers 200, and data from the broker lands in VictoriaMetrics and Redis', async () => {
    assert.equal((await http('/readyz')).status, 200);
    const pub = await connectPublisher(servers.mq.url, { username: 'tester', password: 'tester' });
    await pub.publish('sensors/nspawn1/climate', '{"t":21.5,"h":40}', 1);
    await pub.end();
    await servers.vm.waitForSeries('climate_t', (s) => s.some((x) => x.metric.device === 'nspawn1'), 20_000);
    const redis = new Redis(servers.rd.url);
    try {
      await waitFor(async () => (await redis.hget('eb:latest:{nspawn1}:climate', 't')) === '21.5', { timeoutMs: 20_000 });
    } finally {
      redis.disconnect();
    }
  });

  it('reads its secrets from LoadCredential= (the broker takes only that password) and never logs them', async () => {
    const pid = showUnit('MainPID').MainPID;
    const dir = machine.sh(`tr '\\0' '\\n' < /proc/${pid}/environ | sed -n 's/^CREDENTIALS_DIRECTORY=//p'`).trim();
    assert.equal(dir, `/run/credentials/${UNIT}`);
    assert.equal(machine.sh(`cat ${dir}/mqtt_password`), MQTT_PASSWORD, 'handed over by systemd');
    const logs = journal();
    assert.ok(logs.includes('edgebridge started'), logs.slice(-2000));
    for (const secret of [MQTT_PASSWORD, INFLUX_TOKEN]) {
      assert.ok(!logs.includes(secret), 'a secret in the journal');
      assert.ok(!(await (await http('/status')).text()).includes(secret), 'a secret in /status');
    }
  });

  it('nothing in the sandbox breaks it: no warning or error logged, /metrics and /status answer, exposure ≤ 1.5', async () => {
    const bad = journal()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level >= 40);
    assert.deepEqual(bad, []);
    assert.equal((await http('/metrics')).status, 200);
    assert.equal((await http('/status')).status, 200);
    const security = machine.run(['systemd-analyze', 'security', '--no-pager', UNIT]).stdout;
    const exposure = Number(/Overall exposure level for edgebridge\.service: (\d+(?:\.\d+)?)/.exec(security)?.[1]);
    console.log(`exposure (systemd-analyze security, online, in the container): ${exposure}`);
    assert.ok(exposure <= 1.5, security);
  });

  it('what the sandbox does to Node, measured under the same unit settings (the gateway calls none of what breaks)', () => {
    // The installed unit with a probe as ExecStart: same user, namespaces, /proc view and syscall filter.
    const probe = [
      'const os = require("node:os"), fs = require("node:fs");',
      'const t = (f) => { try { return f(); } catch (e) { return "throws " + (e.code ?? e.message); } };',
      'console.log(JSON.stringify({ cpus: os.cpus().length, availableParallelism: os.availableParallelism(),',
      '  totalmemMiB: Math.round(os.totalmem() / 2 ** 20), constrainedMemoryMiB: Math.round(process.constrainedMemory() / 2 ** 20),',
      '  procMeminfo: fs.existsSync("/proc/meminfo"), loadavg: os.loadavg().length,',
      '  networkInterfaces: t(() => Object.keys(os.networkInterfaces()).length), uid: process.getuid() }));',
    ].join(' ');
    const unit = machine
      .sh(`cat /etc/systemd/system/${UNIT}`)
      .replace(/^Type=notify$/m, 'Type=oneshot')
      .replace(/^(WatchdogSec|TimeoutStartSec|Restart)=.*$/gm, '')
      // systemd expands % specifiers and $VARIABLES in ExecStart=: both doubled.
      .replace(
        /^ExecStart=(\S+) .*$/m,
        (_, node: string) => `ExecStart=${node} -e '${probe.replaceAll('%', '%%').replaceAll('$', '$$$$')}'`,
      );
    machine.sh('cat > /etc/systemd/system/eb-sandbox-probe.service && systemctl daemon-reload', { input: unit });
    machine.sh('systemctl start eb-sandbox-probe.service');
    const out = machine.sh('journalctl -u eb-sandbox-probe.service -o cat --no-pager | grep "^{"').trim();
    console.log(`sandbox probe (Node ${process.version} under the unit's settings): ${out}`);
    const r = JSON.parse(out) as { uid: number; availableParallelism: number };
    assert.notEqual(r.uid, 0, 'a dynamic user');
    assert.ok(r.availableParallelism >= 1);
    // test/unit/sandboxSafe.test.ts keeps what does not work here (os.cpus() empty, …) out of src/.
  });

  it('MemoryMax= is in force: set in the unit cgroup, and the kernel OOM-kills a transient unit over its MemoryMax', () => {
    const s = showUnit('MemoryMax', 'ControlGroup');
    assert.equal(s.MemoryMax, String(256 * 2 ** 20));
    assert.equal(machine.sh(`cat /sys/fs/cgroup/memory${s.ControlGroup}/memory.limit_in_bytes`).trim(), String(256 * 2 ** 20));
    // 96 MiB touched, then exit 0: killed under MemoryMax=48M, completes under 256M (cgroup v1 reports a SIGKILL).
    const hog = (max: string) =>
      machine.run([
        'systemd-run',
        '--wait',
        '--pipe',
        '-p',
        `MemoryMax=${max}`,
        '-p',
        'MemorySwapMax=0',
        '/opt/edgebridge/node_modules/node/bin/node',
        '-e',
        'const a = []; for (let i = 0; i < 96; i++) a.push(Buffer.alloc(1 << 20, 1));',
      ]);
    const small = hog('48M');
    assert.notEqual(small.status, 0);
    assert.match(small.stderr, /oom-kill|status=KILL/, small.stderr);
    const large = hog('256M');
    assert.equal(large.status, 0, large.stderr);
  });

  it('the watchdog restarts a gateway that stopped answering (SIGSTOP)', async () => {
    const before = showUnit('MainPID', 'NRestarts');
    const t0 = performance.now();
    machine.sh(`kill -STOP ${before.MainPID}`);
    const after = await waitFor(
      () => {
        const s = showUnit('MainPID', 'NRestarts', 'ActiveState', 'SubState');
        return s.NRestarts !== before.NRestarts && s.ActiveState === 'active' && s.SubState === 'running' ? s : undefined;
      },
      { timeoutMs: (unitSeconds('WatchdogSec') * 2 + unitSeconds('TimeoutStopSec') + 60) * 1000, intervalMs: 250 },
    );
    timing(`watchdog restart (SIGSTOP → active again; WatchdogSec=${unitSeconds('WatchdogSec')})`, performance.now() - t0);
    assert.notEqual(after.MainPID, before.MainPID);
    assert.match(journal(), /Watchdog timeout/);
    await waitFor(async () => (await http('/readyz')).status === 200, { timeoutMs: 60_000 });
  });

  it('systemctl reload reloads', {
    skip: /^ExecReload=/m.test(unitText) ? false : 'the unit has no ExecReload= (live reload not in this tree)',
  }, async () => {
    const before = showUnit('MainPID');
    machine.sh(`systemctl reload ${UNIT}`);
    // ExecReload only sends SIGHUP: the unit stays 'reloading' until the gateway's READY=1 after RELOADING=1.
    await waitFor(() => showUnit('ActiveState').ActiveState === 'active', { timeoutMs: 30_000, intervalMs: 100 });
    assert.equal(showUnit('MainPID').MainPID, before.MainPID, 'reloaded in place, not restarted');
    assert.match(journal(), /reload: configuration unchanged|configuration reloaded/);
  });

  it('a bad config exits 78 and is not restarted (RestartPreventExitStatus=78)', async () => {
    machine.sh(`cp ${CONFIG} /root/good.json && echo '{"noSuchKey": 1}' > ${CONFIG}`);
    assert.notEqual(machine.run(['systemctl', 'restart', UNIT]).status, 0);
    const failed = showUnit('ActiveState', 'ExecMainStatus', 'NRestarts');
    assert.equal(failed.ExecMainStatus, '78');
    await sleep((unitSeconds('RestartSec') + 5) * 1000);
    const later = showUnit('ActiveState', 'ExecMainStatus', 'NRestarts');
    assert.equal(later.ActiveState, 'failed');
    assert.equal(later.NRestarts, failed.NRestarts, 'not restarted');
    machine.sh(`cp /root/good.json ${CONFIG} && systemctl reset-failed ${UNIT} && systemctl start ${UNIT}`);
    await waitFor(async () => (await http('/readyz')).status === 200, { timeoutMs: 60_000 });
  });

  it('systemctl stop drains within TimeoutStopSec and exits 0; what it took in is delivered after the next start', async () => {
    const count = 2000;
    const base = Date.now() - count;
    const pub = await connectPublisher(servers.mq.url, { username: 'tester', password: 'tester' });
    await pub.publishMany(
      Array.from({ length: count }, (_, i) => ({ topic: 'sensors/drain/climate', payload: JSON.stringify({ t: i, ts: base + i }) })),
    );
    await pub.end();
    const t0 = performance.now();
    machine.sh(`systemctl stop ${UNIT}`);
    const stopMs = performance.now() - t0;
    timing(`drain (systemctl stop → inactive, ${count} messages just published; TimeoutStopSec=${unitSeconds('TimeoutStopSec')})`, stopMs);
    assert.ok(stopMs < unitSeconds('TimeoutStopSec') * 1000);
    const s = showUnit('ActiveState', 'Result', 'ExecMainStatus', 'ExecMainCode');
    assert.deepEqual([s.ActiveState, s.Result, s.ExecMainStatus], ['inactive', 'success', '0']);
    assert.match(journal(), /"msg":"edgebridge stopped"/);
    machine.sh(`systemctl start ${UNIT}`);
    await servers.vm.waitForSeries('climate_t{device="drain"}', (x) => x.reduce((n, y) => n + y.values.length, 0) === count, 60_000);
  });

  it("an older Node (Debian's nodejs 18) gets one line naming the Node it needs and the one it found, and a non-zero exit", () => {
    const direct = machine.run(['/usr/bin/node', '/opt/edgebridge/dist/main.js', '--version']);
    const found = machine.sh('/usr/bin/node --version').trim();
    machine.sh(`npm install -g --prefer-offline --no-audit --no-fund --loglevel=error /root/edgebridge/${tarball}`, { timeoutMs: 600_000 });
    const global = machine.run(['bash', '-lc', 'edgebridge --version']);
    for (const r of [direct, global]) {
      assert.notEqual(r.status, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`needs Node\\.js 24 or newer; this is Node\\.js ${found.slice(1).replaceAll('.', '\\.')}`));
    }
    console.log(`old node (${found}): ${global.stderr.trim()} [exit ${global.status}]`);
  });
});
