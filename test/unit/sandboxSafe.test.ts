import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What Node cannot do under systemd/edgebridge.service's sandbox, measured by `npm run test:systemd` (Node 24,
 * systemd 252): with ProcSubset=pid `os.cpus()` is an empty list and /proc/meminfo, /proc/loadavg, /proc/stat are
 * gone; with RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 `os.networkInterfaces()` throws
 * (no AF_NETLINK). The gateway must not depend on them: `os.availableParallelism()` (2 here), `os.totalmem()`,
 * `os.loadavg()` and `process.constrainedMemory()` (MemoryMax=, 256 MiB) work there.
 */
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const BROKEN: [RegExp, string][] = [
  [/\bcpus\(\)/, 'os.cpus() is [] under ProcSubset=pid: use os.availableParallelism()'],
  [/\bnetworkInterfaces\(\)/, 'os.networkInterfaces() throws without AF_NETLINK in RestrictAddressFamilies='],
  [/\/proc\/(loadavg|stat|cpuinfo)\b/, 'system-wide /proc files are hidden by ProcSubset=pid: os.loadavg() (sysinfo) works'],
  [/\/proc\/meminfo/, '/proc/meminfo is hidden by ProcSubset=pid: use os.totalmem() or process.constrainedMemory()'],
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the gateway under the unit sandbox', () => {
  it('src/ calls nothing that the sandbox breaks', () => {
    const found = sources(SRC).flatMap((file) => {
      const text = fs.readFileSync(file, 'utf8');
      return BROKEN.filter(([re]) => re.test(text)).map(([, why]) => `${path.relative(SRC, file)}: ${why}`);
    });
    assert.deepEqual(found, []);
  });
});
