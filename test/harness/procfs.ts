/**
 * The one /proc reader (Linux) for tests, bench and scripts: CPU time, memory and I/O of a process. The plain
 * readers throw when the process is gone; `tryProc` turns that into undefined for samplers that outlive it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clkTck: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** user + system CPU time of the process so far, in µs (resolution: one tick, 10 ms at 100 Hz). */
export function cpuMicros(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return (ticks * 1_000_000) / clockTicksPerSecond();
}

/** The one-letter state of /proc/<pid>/stat (R, S, D, Z for a zombie, X dead, …). */
export function processState(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** The `kB` lines of /proc/<pid>/status, in bytes (VmRSS, VmHWM, RssAnon, RssFile, …); 0 for a key not there. */
export function statusBytes(pid: number, ...keys: string[]): number[] {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return keys.map((key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  });
}

/** Current resident set size, bytes. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS')[0]!;
}

/**
 * Resident memory split by kind, bytes: `anon` is the process's own (heap, stacks, buffers), `file` the mapped
 * files' pages it touched — for Node mostly the 120 MB executable's code, shared with every other Node process
 * and dropped first under memory pressure.
 */
export function memoryBreakdown(pid: number): { rss: number; anon: number; file: number } {
  const [rss, anon, file] = statusBytes(pid, 'VmRSS', 'RssAnon', 'RssFile') as [number, number, number];
  return { rss, anon, file };
}

/** Peak resident set size (high-water mark), bytes. */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, 'VmHWM')[0]!;
}

export interface IoCounters {
  /** Bytes passed to write()-family syscalls (files, sockets, pipes). */
  wchar: number;
  /** Bytes this process caused to be sent to the block layer (the disk). */
  writeBytes: number;
}

export function ioCounters(pid: number): IoCounters {
  const text = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const get = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { wchar: get('wchar'), writeBytes: get('write_bytes') };
}

/** `read(pid)`, or undefined when the process (or its /proc entry) is gone. */
export function tryProc<T>(read: (pid: number) => T, pid: number | undefined): T | undefined {
  if (pid === undefined) return undefined;
  try {
    return read(pid);
  } catch {
    return undefined;
  }
}
