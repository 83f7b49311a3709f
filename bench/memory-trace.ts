/**
 * Where the gateway's memory is, at rest and at its peak: reads the JSON lines EDGEBRIDGE_MEMORY_TRACE wrote
 * (src/stats/MemoryTrace.ts) and prints, for the first sample and the one with the highest RSS of the gateway
 * (the last) gateway process, each class side by side with the growth between them. "idle" is the last sample of
 * the first process when there are two (bench/run.ts --memory-only's at-rest gateway, settled), else the last
 * sample of the only one within IDLE_S seconds of its start (default 3: bench/peak-variants.ts loads it ~2 s after
 * it is ready).
 *
 *   EDGEBRIDGE_MEMORY_TRACE=/tmp/trace.jsonl,200 node bench/run.ts --tuned --memory-only
 *   node bench/memory-trace.ts /tmp/trace.jsonl [IDLE_S]
 *
 * The sampler itself costs memory (it reads smaps into strings every MS ms and touches more of the node binary):
 * compare figures taken with it only with each other.
 */
import fs from 'node:fs';
import type { MemorySample } from '../src/stats/MemoryTrace.ts';

const MB = 1024 * 1024;
const kb = (n: number): number => n / 1024;

export function rows(s: MemorySample): [string, number][] {
  const sp = (names: string[]): number => names.reduce((a, n) => a + (s.spaces[n]?.physical ?? 0), 0) / MB;
  const code = sp(['code_space', 'code_large_object_space']);
  const heap = sp(Object.keys(s.spaces)) - code;
  const o = s.smaps;
  return [
    ['RSS', kb(s.rssKb)],
    ['  file-backed (smaps)', kb(o.file)],
    ['  anonymous (smaps_rollup)', kb(s.anonKb)],
    ['    V8 heap, resident (heap spaces but code)', heap],
    ['      of it new space', (s.spaces.new_space?.physical ?? 0) / MB],
    ['      of it old + large object space', ((s.spaces.old_space?.physical ?? 0) + (s.spaces.large_object_space?.physical ?? 0)) / MB],
    ['    V8 code space, resident', code],
    ['    V8 malloced (zones: compilers, parser)', s.mallocedMemory / MB],
    ['      the most so far', s.peakMallocedMemory / MB],
    ['    external (memoryUsage)', s.memoryUsage.external / MB],
    ['      of it ArrayBuffers/Buffers', s.memoryUsage.arrayBuffers / MB],
    ['    smaps: brk [heap] = malloc main arena', kb(o.brk)],
    [`    smaps: malloc thread arenas (${o.arenaList.length})`, kb(o.arenas)],
    ['    smaps: thread stacks', kb(o.stacks)],
    ['    smaps: executable anonymous (JIT code)', kb(o.jit)],
    ['    smaps: other anonymous (V8 pages, malloc mmap blocks)', kb(o.anon)],
  ];
}

function main(file: string, idleS: number): void {
  const all = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as MemorySample);
  const byPid = new Map<number, MemorySample[]>();
  for (const s of all) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s]);
  const runs = [...byPid.values()];
  const samples = runs.at(-1);
  if (samples === undefined || samples.length === 0) throw new Error(`${file}: no samples`);
  const first = runs.length > 1 ? runs[0]!.at(-1)! : samples.filter((s) => s.t - samples[0]!.t <= idleS * 1000).at(-1)!;
  const peak = samples.reduce((a, s) => (s.rssKb > a.rssKb ? s : a));
  const a = rows(first);
  const p = rows(peak);
  const w = Math.max(...a.map((r) => r[0].length));
  const out = [
    `idle: pid ${first.pid}; peak: pid ${peak.pid}, ${samples.length} samples, peak at +${((peak.t - samples[0]!.t) / 1000).toFixed(1)} s (MiB)`,
    `${'class'.padEnd(w)}  ${'idle'.padStart(7)}  ${'peak'.padStart(7)}  ${'growth'.padStart(7)}`,
    ...a.map(
      (r, i) =>
        `${r[0].padEnd(w)}  ${r[1].toFixed(1).padStart(7)}  ${p[i]![1].toFixed(1).padStart(7)}  ${(p[i]![1] - r[1]).toFixed(1).padStart(7)}`,
    ),
    `arenas at peak (kB each): ${peak.smaps.arenaList.join(' ')}`,
    `largest other anonymous mappings at peak: ${peak.smaps.largestAnon.map((m) => `${m.start} ${m.anonKb}/${m.sizeKb} kB`).join(', ')}`,
    `threads at peak: ${Object.entries(peak.threads)
      .map(([n, c]) => `${n}×${c}`)
      .join(' ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.main) main(process.argv[2] ?? '/tmp/edgebridge-memory-trace.jsonl', Number(process.argv[3] ?? 3));
