import { statusBytes, tryProc } from '../../test/harness/index.ts';

/**
 * Samples a process's memory from /proc/<pid>/status on an interval: VmRSS (what `ps` shows; includes the mapped
 * Node binary) and RssAnon (heap, buffers: what grows when memory leaks, and most of what a cgroup limit charges).
 */
export class RssSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly #timelineEvery: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  peakBytes = 0;
  lastBytes = 0;
  peakAnonBytes = 0;
  lastAnonBytes = 0;
  samples = 0;
  /** VmRSS every `timelineEvery`-th sample, bytes: the shape of the curve (flat, or growing). */
  readonly timeline: number[] = [];

  constructor(pid: number, intervalMs = 500, timelineEvery = 10) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
    this.#timelineEvery = timelineEvery;
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
    const [rss, anon] = tryProc((pid) => statusBytes(pid, 'VmRSS', 'RssAnon'), this.#pid) ?? [0, 0];
    if (rss === undefined || rss === 0) return undefined;
    if (this.samples % this.#timelineEvery === 0) this.timeline.push(rss);
    this.samples++;
    this.lastBytes = rss;
    this.peakBytes = Math.max(this.peakBytes, rss);
    this.lastAnonBytes = anon ?? 0;
    this.peakAnonBytes = Math.max(this.peakAnonBytes, anon ?? 0);
    return rss;
  }
}
