/**
 * Samples the current gateway every 250 ms: peak RSS, peak spool backlog (bytes, all sinks), the disk bytes
 * written by each gateway process (summed over restarts), and a one-line status for the progress log.
 */
import { ioCounters, rssBytes, tryProc, type GatewayProcess } from '../../test/harness/index.ts';

export class GatewaySampler {
  readonly #current: () => GatewayProcess | undefined;
  readonly #writeBytesByPid = new Map<number, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #sampling = false;
  peakRss = 0;
  peakBacklog = 0;
  counters = '';

  constructor(current: () => GatewayProcess | undefined) {
    this.#current = current;
  }

  start(intervalMs = 250): void {
    this.#timer = setInterval(() => {
      if (this.#sampling) return;
      this.#sampling = true;
      void this.#sample(this.#current()).finally(() => (this.#sampling = false));
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Disk bytes written by the gateway processes so far. */
  get diskWriteBytes(): number {
    return [...this.#writeBytesByPid.values()].reduce((a, b) => a + b, 0);
  }

  /** Reads g's write_bytes now (e.g. right before it is killed). */
  sampleIo(g: GatewayProcess | undefined): void {
    const pid = g?.pid;
    const w = tryProc(ioCounters, pid)?.writeBytes;
    if (pid !== undefined && w !== undefined) this.#writeBytesByPid.set(pid, w);
  }

  async #sample(g: GatewayProcess | undefined): Promise<void> {
    const rss = tryProc(rssBytes, g?.pid);
    if (rss !== undefined) {
      this.peakRss = Math.max(this.peakRss, rss);
      this.sampleIo(g);
    }
    const st = await g?.status().catch(() => undefined);
    if (st !== undefined) {
      const backlog = st.sinks.reduce((s, x) => s + (x.backlog.bytes ?? 0), 0);
      this.peakBacklog = Math.max(this.peakBacklog, backlog);
      this.counters = `gateway pid ${g?.pid} received ${st.messages.received} accepted ${st.messages.accepted} backlog ${backlog} B`;
    }
  }
}
