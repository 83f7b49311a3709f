import fs from 'node:fs';
import v8 from 'node:v8';
import { classifySmaps, type SmapsClasses } from './smapsClasses.ts';

/** One line of the trace: kB throughout, except the V8 and process.memoryUsage() figures (bytes, as Node gives them). */
export interface MemorySample {
  t: number;
  pid: number;
  rssKb: number;
  anonKb: number;
  memoryUsage: NodeJS.MemoryUsage;
  /** Per V8 heap space: committed (space_size), used, and physically resident bytes. */
  spaces: Record<string, { size: number; used: number; physical: number }>;
  /** V8's malloc'ed memory outside the heap (zones of the compilers, parser) as getHeapStatistics() counts it. */
  mallocedMemory: number;
  peakMallocedMemory: number;
  smaps: SmapsClasses;
  /** Thread names (from /proc/self/task/.../comm) and how many of each. */
  threads: Record<string, number>;
}

export interface MemoryTraceOptions {
  /** JSON lines are appended here, one sample each. */
  readonly file: string;
  readonly intervalMs: number;
  readonly now?: () => number;
  readonly proc?: string;
}

/**
 * EDGEBRIDGE_MEMORY_TRACE=FILE[,MS]: a sample of where the process's memory is every MS ms (200 by default),
 * appended to FILE as JSON lines: process.memoryUsage(), V8's heap spaces, /proc/self/smaps classified
 * (smapsClasses.ts) and the threads. A diagnostic for `node bench/memory-trace.ts`; off unless set, and when off
 * this module is not even loaded (src/cli/entry.ts). Reading smaps takes about a millisecond: not for production.
 */
export class MemoryTrace {
  private readonly options: MemoryTraceOptions;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryTraceOptions) {
    this.options = options;
  }

  static fromEnv(value: string): MemoryTrace {
    const [file, ms] = value.split(',');
    const intervalMs = ms === undefined ? 200 : Number(ms);
    if (!file || !Number.isFinite(intervalMs) || intervalMs < 10)
      throw new Error(`EDGEBRIDGE_MEMORY_TRACE=${value}: expected FILE or FILE,MS (MS ≥ 10)`);
    return new MemoryTrace({ file, intervalMs });
  }

  start(): void {
    this.write();
    this.timer = setInterval(() => this.write(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): MemorySample {
    const proc = this.options.proc ?? '/proc/self';
    const rollup = fs.readFileSync(`${proc}/smaps_rollup`, 'utf8');
    const spaces: MemorySample['spaces'] = {};
    for (const s of v8.getHeapSpaceStatistics())
      spaces[s.space_name] = { size: s.space_size, used: s.space_used_size, physical: s.physical_space_size };
    const heap = v8.getHeapStatistics();
    return {
      t: (this.options.now ?? Date.now)(),
      pid: process.pid,
      rssKb: field(rollup, 'Rss'),
      anonKb: field(rollup, 'Anonymous'),
      memoryUsage: process.memoryUsage(),
      spaces,
      mallocedMemory: heap.malloced_memory,
      peakMallocedMemory: heap.peak_malloced_memory,
      smaps: classifySmaps(fs.readFileSync(`${proc}/smaps`, 'utf8')),
      threads: threadNames(proc),
    };
  }

  private write(): void {
    fs.appendFileSync(this.options.file, `${JSON.stringify(this.sample())}\n`);
  }
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

function threadNames(proc: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of fs.readdirSync(`${proc}/task`)) {
    let name: string;
    try {
      name = fs.readFileSync(`${proc}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended meanwhile
    }
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}
