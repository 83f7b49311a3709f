import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../harness/freePort.ts';
import { waitFor } from '../harness/waitFor.ts';

/**
 * Dockerfile.arm64 read as text (no Docker engine is needed): each property the image promises is checked on
 * its instructions, and the image's entry command and HEALTHCHECK are run outside Docker on the built dist/ with
 * the image's environment.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APP = '/opt/edgebridge';
const text = fs.readFileSync(path.join(ROOT, 'Dockerfile.arm64'), 'utf8');

interface Instruction {
  readonly cmd: string;
  readonly args: string;
  /** 0-based index of the stage (FROM) it belongs to. */
  readonly stage: number;
}

/** Instructions with continuation lines joined and comments dropped. */
function parse(source: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const [cmd, ...rest] = full.split(/\s+/);
    const upper = cmd!.toUpperCase();
    if (upper === 'FROM') stage++;
    out.push({ cmd: upper, args: rest.join(' '), stage });
  }
  return out;
}

/** `KEY=value KEY2="a b"` → entries (Dockerfile ENV/LABEL syntax, double quotes). */
function pairs(args: string): [string, string][] {
  const tokens = args.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  return tokens.map((t) => {
    const eq = t.indexOf('=');
    return [t.slice(0, eq), t.slice(eq + 1).replace(/"/g, '')];
  });
}

const instructions = parse(text);
const stages = Math.max(...instructions.map((i) => i.stage)) + 1;
const final = instructions.filter((i) => i.stage === stages - 1);
const all = (cmd: string, list = instructions) => list.filter((i) => i.cmd === cmd);
const one = (cmd: string, list = final) => {
  const found = all(cmd, list);
  assert.equal(found.length, 1, `exactly one ${cmd} in the final stage`);
  return found[0]!;
};
const env = new Map(all('ENV', final).flatMap((i) => pairs(i.args)));
const labels = new Map(all('LABEL', final).flatMap((i) => pairs(i.args)));
const execForm = (i: Instruction): string[] => JSON.parse(i.args) as string[];

/** A path inside the image → the same file in this checkout; `node` → the Node 24 running the tests. */
function outsideDocker(argv: readonly string[]): string[] {
  return argv.map((a) => (a === 'node' ? process.execPath : a.startsWith(`${APP}/`) ? path.join(ROOT, a.slice(APP.length + 1)) : a));
}

function imageEnv(overrides: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...Object.fromEntries(env), ...overrides };
}

/** Runs the HEALTHCHECK command; `probePath` replaces its path argument (e.g. /readyz). */
function runHealthcheck(envVars: Record<string, string>, probePath?: string): Promise<number | null> {
  const [command, script, ...rest] = outsideDocker(healthcheckArgv());
  const child = spawn(command!, [script!, ...(probePath === undefined ? rest : [probePath])], { env: envVars, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function healthcheckArgv(): string[] {
  const match = /\bCMD\s+(\[.*\])\s*$/.exec(one('HEALTHCHECK').args);
  assert.ok(match, 'HEALTHCHECK CMD is in exec form');
  return JSON.parse(match[1]!) as string[];
}

describe('Dockerfile.arm64', () => {
  it('is multi-stage: builds with dev dependencies, runs on the official node:24-bookworm-slim by default (a build arg names another) with npm ci --omit=dev', () => {
    assert.ok(stages >= 2, 'at least a build and a runtime stage');
    const globalArgs = instructions.filter((i) => i.stage === -1 && i.cmd === 'ARG').map((i) => i.args);
    assert.ok(globalArgs.includes('BASE_IMAGE=node:24-bookworm-slim'), 'the default base is the official Node 24 image');
    const froms = all('FROM');
    // No --platform on the runtime stage: it is the build's target (linux/arm64 or linux/amd64).
    assert.match(froms.at(-1)!.args, /^\$\{BASE_IMAGE\}$/);
    assert.match(froms[0]!.args, /^--platform=\$BUILDPLATFORM \$\{BUILD_BASE_IMAGE\} AS build$/);
    const build = instructions.filter((i) => i.stage < stages - 1 && i.cmd === 'RUN').map((i) => i.args);
    assert.ok(
      build.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev|--production/.test(r)),
      'the build stage installs dev dependencies',
    );
    assert.ok(
      build.some((r) => /\btsc\b/.test(r)),
      'the build stage compiles',
    );
    const runs = all('RUN', final).map((i) => i.args);
    assert.ok(
      runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)),
      'the runtime stage has production dependencies only',
    );
    assert.ok(
      all('COPY', final).some((i) => /--from=\S+\s+\/src\/dist\b/.test(i.args)),
      'dist/ comes from the build stage',
    );
  });

  it('copies only what its build context (Dockerfile.arm64.dockerignore) lets in', () => {
    const allowed = fs
      .readFileSync(path.join(ROOT, 'Dockerfile.arm64.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const copies = instructions.filter((i) => i.cmd === 'COPY' && !i.args.startsWith('--from'));
    assert.ok(copies.length > 0);
    for (const c of copies) {
      for (const src of c.args
        .split(/\s+/)
        .filter((w) => !w.startsWith('--'))
        .slice(0, -1)) {
        const p = src.replace(/\/$/, '');
        assert.ok(
          allowed.some((a) => p === a || p.startsWith(`${a}/`)),
          `COPY ${src}: not in the build context (add !${src} to the .dockerignore)`,
        );
      }
    }
  });

  it('runs as a non-root user', () => {
    const user = one('USER').args.split(':')[0]!;
    assert.notEqual(user, 'root');
    assert.notEqual(user, '0');
    assert.ok(
      all('RUN', final).some((i) => i.args.includes(`useradd`) && i.args.includes(`--uid ${user}`)),
      `user ${user} is created`,
    );
  });

  it('has a HEALTHCHECK that runs the Node probe script against /healthz, and no curl or wget anywhere', () => {
    const argv = healthcheckArgv();
    assert.equal(argv[0], 'node');
    assert.equal(argv[1], `${APP}/scripts/healthcheck.js`);
    assert.ok(argv.includes('/healthz'));
    assert.ok(
      all('COPY', final).some((i) => i.args.includes('scripts/healthcheck.js')),
      'the probe script is in the image',
    );
    assert.doesNotMatch(text.replace(/^#.*$/gm, ''), /\b(curl|wget)\b/);
  });

  it('declares a VOLUME for the spool, the directory EDGEBRIDGE_SPOOL_DIR names, owned by the user', () => {
    const spool = env.get('EDGEBRIDGE_SPOOL_DIR');
    assert.ok(spool, 'EDGEBRIDGE_SPOOL_DIR is set');
    assert.deepEqual(execForm(one('VOLUME')), [spool]);
    const user = one('USER').args;
    assert.ok(
      all('RUN', final).some((i) => i.args.includes(`chown -R ${user}`)),
      'the spool belongs to the user',
    );
  });

  it('is configured by env: HTTP on 0.0.0.0, the measured NODE_OPTIONS (same as the systemd unit), accepted by Node 24', () => {
    assert.equal(env.get('EDGEBRIDGE_HTTP_HOST'), '0.0.0.0');
    assert.equal(env.get('EDGEBRIDGE_HTTP_PORT'), execForm({ cmd: '', args: `[${one('EXPOSE').args}]`, stage: 0 })[0]!.toString());
    const nodeOptions = env.get('NODE_OPTIONS')!;
    assert.equal(nodeOptions, '--max-old-space-size=96 --max-semi-space-size=2');
    const unit = fs.readFileSync(path.join(ROOT, 'systemd/edgebridge.service'), 'utf8');
    assert.ok(unit.includes(`Environment="NODE_OPTIONS=${nodeOptions}"`), 'the unit uses the same tuning');
    // glibc malloc's settings (one arena, 128 KiB mmap and trim thresholds): the same in both, measured in docs/performance.md.
    for (const [name, value] of [
      ['MALLOC_ARENA_MAX', '1'],
      ['MALLOC_MMAP_THRESHOLD_', '131072'],
      ['MALLOC_TRIM_THRESHOLD_', '131072'],
    ] as const) {
      assert.equal(env.get(name), value, name);
      assert.ok(unit.includes(`Environment=${name}=${value}`), `the unit sets ${name}=${value}`);
    }
    const r = spawnSync(process.execPath, ['-p', 'require("v8").getHeapStatistics().heap_size_limit / 2 ** 20'], {
      env: { NODE_OPTIONS: nodeOptions },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const heapMiB = Number(r.stdout);
    assert.ok(heapMiB >= 96 && heapMiB < 120, `heap limit ${heapMiB} MiB`);
  });

  it('starts node as PID 1 in exec form (its own SIGTERM handler runs), without a shell or an init', () => {
    const entry = execForm(one('ENTRYPOINT'));
    assert.deepEqual(entry, ['node', `${APP}/dist/bundle/edgebridge.mjs`]);
    assert.deepEqual(execForm(one('CMD')), ['run']);
    assert.ok(!/\b(tini|dumb-init)\b/.test(text.replace(/^#.*$/gm, '')), 'no init process');
    assert.equal(one('STOPSIGNAL').args, 'SIGTERM');
  });

  it('carries the OCI labels', () => {
    for (const key of ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses', 'vendor', 'base.name']) {
      assert.ok(labels.get(`org.opencontainers.image.${key}`), `org.opencontainers.image.${key}`);
    }
    assert.equal(labels.get('org.opencontainers.image.licenses'), 'Apache-2.0');
  });

  it("the image's entry command runs outside Docker with the image's env: healthy → probe 0, not ready → probe 1, SIGTERM → exit 0", async () => {
    const port = await freePort();
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-docker-'));
    const vars = imageEnv({
      EDGEBRIDGE_HTTP_PORT: String(port),
      EDGEBRIDGE_SPOOL_DIR: spoolDir,
      EDGEBRIDGE_GATEWAY_ID: 'container-test',
      // Nothing listens there: alive, not ready.
      EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
    });
    const [command, ...args] = outsideDocker([...execForm(one('ENTRYPOINT')), ...execForm(one('CMD'))]);
    const child = spawn(command!, args, { env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, {
        timeoutMs: 20_000,
        intervalMs: 100,
        message: () => `no /healthz; output: ${output.slice(-2000)}`,
      });
      assert.match(output, /"host":"0\.0\.0\.0"/, 'listens on all interfaces');
      assert.equal(await runHealthcheck(vars), 0, 'healthy: the probe exits 0');
      assert.equal(await runHealthcheck(vars, '/readyz'), 1, 'not ready (no broker): a non-200 answer exits 1');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `SIGTERM: clean exit; output: ${output.slice(-2000)}`);
      assert.equal(await runHealthcheck(vars), 1, 'nothing listening: the probe exits 1');
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});
