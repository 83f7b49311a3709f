import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The runtime settings the systemd unit gives the gateway: its `Environment=` lines other than the service's own
 * paths and addresses (EDGEBRIDGE_*), i.e. NODE_OPTIONS (heap limits), MALLOC_ARENA_MAX and NODE_ENV. `npm run
 * bench -- --tuned` runs the gateway (and the Node floor beside it) with exactly these, so the figures quoted for
 * a deployed gateway come from the file that deploys it rather than from a copy of its flags.
 */
export function unitEnvironment(unitFile: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of fs.readFileSync(unitFile, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('Environment=')) continue;
    // Environment="NAME=value with spaces" or Environment=NAME=value
    let assignment = line.slice('Environment='.length);
    if (assignment.startsWith('"') && assignment.endsWith('"')) assignment = assignment.slice(1, -1);
    const eq = assignment.indexOf('=');
    if (eq <= 0) continue;
    const name = assignment.slice(0, eq);
    if (name.startsWith('EDGEBRIDGE_')) continue;
    env[name] = assignment.slice(eq + 1);
  }
  return env;
}

/** The NODE_OPTIONS the systemd unit (systemd/edgebridge.service) runs the gateway with. */
export function unitNodeOptions(): string {
  return unitEnvironment(fileURLToPath(new URL('../../systemd/edgebridge.service', import.meta.url))).NODE_OPTIONS ?? '';
}

/**
 * What the unit's ExecStart runs: the Node flags between the node binary and the script (V8 flags NODE_OPTIONS
 * does not allow go there), and the script relative to the install directory /opt/edgebridge (i.e. to the
 * repository), e.g. `dist/bundle/edgebridge.mjs`.
 */
export function unitExecStart(unitFile: string): { nodeArgs: string[]; main: string } {
  const line = fs
    .readFileSync(unitFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ExecStart='));
  if (line === undefined) throw new Error(`${unitFile}: no ExecStart=`);
  const words = line.slice('ExecStart='.length).trim().split(/\s+/).slice(1);
  const script = words.findIndex((w) => w.startsWith('/opt/edgebridge/'));
  if (script < 0) throw new Error(`${unitFile}: ExecStart runs no script under /opt/edgebridge/`);
  return { nodeArgs: words.slice(0, script), main: words[script]!.slice('/opt/edgebridge/'.length) };
}
