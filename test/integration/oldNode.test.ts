/** The built gateway started by a Node older than 24 (the machine's own /usr/bin/node, when it is one). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');
const OLD_NODE = '/usr/bin/node';
const oldMajor = fs.existsSync(OLD_NODE)
  ? Number(execFileSync(OLD_NODE, ['-p', 'process.versions.node']).toString().split('.')[0])
  : undefined;

describe('an older Node', () => {
  it('gets a clear message and exit 78, not a stack trace', {
    skip: oldMajor === undefined || oldMajor >= 24 ? `no Node older than 24 at ${OLD_NODE}` : false,
  }, () => {
    assert.ok(fs.existsSync(MAIN), 'npm run build first');
    for (const args of [['--version'], ['check-config'], []]) {
      const r = spawnSync(OLD_NODE, [MAIN, ...args], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH ?? '' } });
      assert.equal(r.status, 78, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^edgebridge: needs Node\.js 24 or newer; this is Node\.js \d+\./);
      assert.doesNotMatch(r.stderr, /SyntaxError| {4}at /);
    }
  });
});
