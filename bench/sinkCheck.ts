/**
 * What landed in the sinks, read back from the servers (never taken from the gateway's counters), and the
 * publish-to-visible latency of the probe messages.
 *
 * Latency method (both sinks use the probes: every n-th message, its own measurement `<m>_probe`, `ts` = send time):
 * - Redis: exact. Each probe becomes a stream entry whose ID Redis assigns from its own clock when the batch's
 *   XADD runs (`<ms>-<n>`), and which carries the send time in its `ts` field: latency = ID ms − ts.
 * - VictoriaMetrics: polled. Every `intervalMs` the bench calls /internal/force_flush and exports
 *   `<m>_probe_seq`; a probe first seen in a poll gets latency = time that poll started − ts. That is an upper
 *   bound, at most one poll interval above the time VictoriaMetrics acknowledged the write.
 */
import type { Redis } from 'ioredis';
import type { VictoriaMetricsHandle } from '../test/harness/index.ts';
import { parseExport } from '../test/harness/index.ts';

export const streamKey = (measurement: string): string => `eb:stream:{${measurement}}`;

/** Points of the phase's measurement (and its probes) in VictoriaMetrics: samples of the `t` field. */
export async function vmPoints(vm: VictoriaMetricsHandle, measurement: string): Promise<number> {
  return vm.countSamples(`{__name__=~"${measurement}_t|${measurement}_probe_t"}`);
}

/** Points of the phase's measurement (and its probes) in Redis: XLEN of the two streams. */
export async function redisPoints(redis: Redis, measurement: string): Promise<number> {
  const [a, b] = await Promise.all([redis.xlen(streamKey(measurement)), redis.xlen(streamKey(`${measurement}_probe`))]);
  return a + b;
}

/** Frees Redis memory once a phase is checked. */
export async function dropRedisStreams(redis: Redis, measurement: string): Promise<void> {
  await redis.unlink(streamKey(measurement), streamKey(`${measurement}_probe`));
}

/** Exact Redis latencies (ms) of the phase's probes, from stream entry IDs. */
export async function redisProbeLatencies(redis: Redis, measurement: string): Promise<number[]> {
  const entries = await redis.xrange(streamKey(`${measurement}_probe`), '-', '+');
  const out: number[] = [];
  for (const [id, fields] of entries) {
    const added = Number(id.split('-')[0]);
    const i = fields.indexOf('ts');
    if (i >= 0) out.push(added - Number(fields[i + 1]));
  }
  return out;
}

/** Polls VictoriaMetrics for the phase's probes while traffic runs. */
export class VmProbePoller {
  readonly latencies: number[] = [];
  readonly #seen = new Set<string>();
  readonly #vm: VictoriaMetricsHandle;
  readonly #match: string;
  readonly #since: number;
  readonly #intervalMs: number;
  #stopped = false;
  #loop: Promise<void>;

  constructor(vm: VictoriaMetricsHandle, measurement: string, intervalMs = 100) {
    this.#vm = vm;
    this.#match = `${measurement}_probe_seq`;
    this.#since = Math.floor(Date.now() / 1000) - 5;
    this.#intervalMs = intervalMs;
    this.#loop = this.#run();
  }

  get seen(): number {
    return this.#seen.size;
  }

  async #pollOnce(): Promise<void> {
    const at = Date.now();
    await fetch(`${this.#vm.url}/internal/force_flush`, { signal: AbortSignal.timeout(5000) });
    const params = new URLSearchParams({
      'match[]': this.#match,
      start: String(this.#since),
      end: String(Math.ceil(Date.now() / 1000) + 60),
    });
    const res = await fetch(`${this.#vm.url}/api/v1/export?${params.toString()}`, { signal: AbortSignal.timeout(5000) });
    for (const series of parseExport(await res.text())) {
      const device = series.metric['device'] ?? '';
      for (let i = 0; i < series.values.length; i++) {
        const key = `${device}:${series.values[i]}`;
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        this.latencies.push(at - (series.timestamps[i] as number));
      }
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const started = Date.now();
      await this.#pollOnce().catch(() => undefined); // VictoriaMetrics down (catch-up phase): try again
      const wait = this.#intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Polls until `expected` probes were seen (or timeoutMs), then stops. */
  async finish(expected: number, timeoutMs = 20_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#seen.size < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.#stopped = true;
    await this.#loop;
    return this.latencies;
  }
}
