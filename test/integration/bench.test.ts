/**
 * `bench/run.ts --quick` end to end: its own Mosquitto, Redis and VictoriaMetrics, the publisher fleet, the bare
 * subscriber and the gateway (dist/main.js, so `npm run build` first). Quick mode judges no timing: it asserts
 * that every message published in every phase landed in both sinks, and that the output is well formed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('npm run bench -- --quick: everything published lands in both sinks', { timeout: 120_000 }, async () => {
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'run.ts'), '--quick'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (Date.now() - started) / 1000;

  const jsonLine = stdout.split('\n').find((l) => l.startsWith('{"bench":'));
  assert.ok(jsonLine, `no {"bench":...} line; stdout: ${stdout.slice(-2000)} stderr: ${stderr.slice(-2000)}`);
  const result = JSON.parse(jsonLine) as {
    mode: string;
    correct: boolean;
    problems: string[];
    gateway: Record<string, { lost: { influx: number; redis: number }[] }>;
    sweep: { steps: { lost: { influx: number; redis: number } }[] };
    catchUp: { backlogPoints: number; lost: { influx: number; redis: number } };
    atRest: { readyMs: number };
  };
  assert.equal(result.mode, 'quick');
  assert.deepEqual(result.problems, [], `problems: ${result.problems.join('\n')}`);
  assert.equal(result.correct, true);
  for (const [name, run] of Object.entries(result.gateway)) {
    for (const lost of run.lost) assert.deepEqual(lost, { influx: 0, redis: 0 }, `${name}: points lost`);
  }
  for (const step of result.sweep.steps) assert.deepEqual(step.lost, { influx: 0, redis: 0 });
  assert.ok(result.catchUp.backlogPoints >= 20_000, `catch-up backlog only ${result.catchUp.backlogPoints}`);
  assert.deepEqual(result.catchUp.lost, { influx: 0, redis: 0 });
  assert.ok(result.atRest.readyMs > 0);
  // The human table went out too, and the results files were written.
  assert.match(stdout, /msg\/s received/);
  assert.ok(fs.existsSync(path.join(ROOT, 'bench', 'results', 'quick.json')));
  assert.equal(code, 0, `exit ${code}; stderr: ${stderr.slice(-2000)}`);
  // A CI-budget guard, not a claim about the gateway (quick mode judges no timing): 44–49 s at load 10–17 on 2 cores,
  // so 60 s failed on loaded machines; the test's timeout stops a hang.
  assert.ok(seconds < 90, `quick bench took ${seconds.toFixed(1)} s (limit 90 s)`);
});
