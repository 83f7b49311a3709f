import fs from 'node:fs';

/** Samples a process's resident set size (VmRSS in /proc/<pid>/status) on an interval: peak and last value. */
export class RssSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  peakBytes = 0;
  lastBytes = 0;
  samples = 0;

  constructor(pid: number, intervalMs = 500) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Takes one sample now; undefined once the process is gone. */
  sample(): number | undefined {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${this.#pid}/status`, 'utf8');
    } catch {
      return undefined;
    }
    const m = /^VmRSS:\s+(\d+) kB/m.exec(text);
    if (m === null) return undefined;
    const bytes = Number(m[1]) * 1024;
    this.samples++;
    this.lastBytes = bytes;
    this.peakBytes = Math.max(this.peakBytes, bytes);
    return bytes;
  }
}
