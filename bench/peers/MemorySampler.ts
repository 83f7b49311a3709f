/**
 * The highest RSS and anonymous RSS (RssAnon of /proc/<pid>/status) of a process while a load runs, sampled.
 * VmHWM gives the exact peak RSS but there is no high-water mark of RssAnon: anonymous memory is what the process
 * holds of its own (heap, buffers), the rest of RSS is file pages such as the `node` binary's code.
 */
import { memoryBreakdown, tryProc } from '../../test/harness/index.ts';

export class MemorySampler {
  readonly #pid: number;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #rss = 0;
  #anon = 0;

  constructor(pid: number, everyMs = 100) {
    this.#pid = pid;
    this.#everyMs = everyMs;
  }

  start(): this {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#everyMs);
    return this;
  }

  #sample(): void {
    const m = tryProc(memoryBreakdown, this.#pid);
    if (m === undefined) return;
    this.#rss = Math.max(this.#rss, m.rss);
    this.#anon = Math.max(this.#anon, m.anon);
  }

  /** Stops sampling; the highest values seen, bytes. */
  stop(): { rss: number; anon: number } {
    clearInterval(this.#timer);
    this.#sample();
    return { rss: this.#rss, anon: this.#anon };
  }
}
