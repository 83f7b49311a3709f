/**
 * Node-RED for the bench's peer run, installed with npm into a cache directory outside the project
 * (`~/.cache/edgebridge-bench/node-red-<version>`): it is not a dependency of edgebridge, package.json and the
 * lock stay as they are. Versions are pinned so every run measures the same code; a finished install is kept and
 * reused (the marker file lists what it holds), a broken one never is (it is built in a temporary sibling
 * directory and renamed into place only once npm succeeded).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The versions measured (4.1.8 is the release issue 17 quotes). */
export const NODE_RED_PACKAGES = {
  'node-red': '4.1.8',
  'node-red-contrib-influxdb': '0.7.0',
  'node-red-contrib-redis': '1.3.9',
} as const;

export const NODE_RED_VERSION = NODE_RED_PACKAGES['node-red'];

const MARKER = 'edgebridge-bench-install.json';

export interface NodeRedInstallOptions {
  /** Default: ~/.cache/edgebridge-bench. */
  readonly cacheRoot?: string;
  readonly log: (line: string) => void;
  /** npm to run; default `npm` on PATH (under `npm run bench`, the project's own). */
  readonly npm?: string;
}

const specs = (): string[] => Object.entries(NODE_RED_PACKAGES).map(([name, version]) => `${name}@${version}`);

/** The path of Node-RED's `red.js` in the cache, installing it first if it is not there. */
export async function installNodeRed(opts: NodeRedInstallOptions): Promise<string> {
  const root = opts.cacheRoot ?? path.join(os.homedir(), '.cache', 'edgebridge-bench');
  const dir = path.join(root, `node-red-${NODE_RED_VERSION}`);
  const redJs = path.join(dir, 'node_modules', 'node-red', 'red.js');
  const want = JSON.stringify(specs());
  if (fs.existsSync(redJs) && readMarker(dir) === want) return redJs;
  fs.mkdirSync(root, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(root, `node-red-${NODE_RED_VERSION}.partial-`));
  try {
    fs.writeFileSync(path.join(tmp, 'package.json'), '{ "private": true }\n');
    opts.log(`installing ${specs().join(' ')} into ${dir} (once; later runs reuse it)`);
    await run(opts.npm ?? 'npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', tmp, ...specs()]);
    fs.writeFileSync(path.join(tmp, MARKER), want);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return redJs;
}

function readMarker(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, MARKER), 'utf8');
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });
}
