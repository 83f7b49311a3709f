import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/** npm's selector query over the installed tree: works offline (the registry here refuses `npm audit`). */
function query(selector: string): { name: string; version: string }[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return JSON.parse(execFileSync(npm, ['query', selector], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as {
    name: string;
    version: string;
  }[];
}

describe('supply chain', () => {
  it('no production dependency runs an install script', () => {
    for (const hook of ['preinstall', 'install', 'postinstall']) {
      const found = query(`.prod:attr(scripts, [${hook}])`).map((p) => `${p.name}@${p.version}`);
      assert.deepEqual(found, [], `production packages with a ${hook} script`);
    }
  });

  it('every direct dependency is listed in docs/development.md with why it is there, and nothing else is', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'development.md'), 'utf8');
    const start = doc.indexOf('\n## Dependencies\n');
    assert.notEqual(start, -1, 'docs/development.md has a "## Dependencies" section');
    const end = doc.indexOf('\n## ', start + 1);
    const section = doc.slice(start, end === -1 ? undefined : end);
    const listed = [...section.matchAll(/^\| `([^`]+)` \| .+ \|$/gm)].map((m) => m[1]!);
    assert.deepEqual([...listed].sort(), Object.keys(pkg.dependencies).sort());
  });

  it('the production tree stays small', () => {
    const count = query('.prod').length;
    // 72 packages when this test was written; a jump means a new dependency pulled in a tree: look before raising.
    assert.ok(count <= 90, `${count} production packages`);
  });
});
