/** Top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof`). */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `function (file:line)`, the file relative to node_modules or the project. */
  fn: string;
  ms: number;
  /** Share of the profile's non-idle time, %. */
  pct: number;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  const dist = p.lastIndexOf('/dist/');
  if (dist >= 0) return p.slice(dist + 1);
  return path.basename(p);
}

export function topSelfTime(file: string, n = 12): { totalMs: number; top: SelfTime[] } {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const cf = node.callFrame;
    const where = shortUrl(cf.url);
    const key = `${cf.functionName || '(anonymous)'}${where ? ` (${where}:${cf.lineNumber + 1})` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), pct: total > 0 ? Math.round((1000 * ms) / total) / 10 : 0 }));
  return { totalMs: Math.round(total), top };
}

if (import.meta.main) {
  for (const file of process.argv.slice(2)) {
    const { totalMs, top } = topSelfTime(file, 25);
    process.stdout.write(`${file}: ${totalMs} ms non-idle\n`);
    for (const t of top) process.stdout.write(`  ${String(t.pct).padStart(5)} %  ${String(t.ms).padStart(6)} ms  ${t.fn}\n`);
  }
}
