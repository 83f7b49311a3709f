import { ServerProcess, httpProbe } from './ServerProcess.ts';
import { waitFor } from './waitFor.ts';
import { serverLifecycle, type ServerHandle } from './serverLifecycle.ts';

export interface VictoriaMetricsOptions {
  /** Extra flags, e.g. ['-loggerLevel=ERROR']. */
  extraArgs?: string[];
  /** Binary (default /usr/bin/victoria-metrics). */
  command?: string;
}

/** One series as /api/v1/export returns it. Timestamps are in milliseconds (VictoriaMetrics stores ms). */
export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export interface VictoriaMetricsHandle extends ServerHandle {
  /** http://127.0.0.1:PORT — also the InfluxDB 2 write endpoint (/api/v2/write). */
  readonly url: string;
  /** GET /internal/force_flush: makes acknowledged rows searchable now (else 2–11 s later). */
  forceFlush(): Promise<void>;
  /** force_flush, then every series matching the selector (e.g. 'climate_t' or '{__name__=~"climate_.*"}'). */
  exportSeries(match: string): Promise<ExportedSeries[]>;
  /** Poll (flush + export) until predicate(series) holds; returns the series. Throws with the last export on timeout. */
  waitForSeries(match: string, predicate: (series: ExportedSeries[]) => boolean, timeoutMs?: number): Promise<ExportedSeries[]>;
  /** Total number of samples over all series matching the selector. */
  countSamples(match: string): Promise<number>;
  /** SIGTERM: VictoriaMetrics flushes what it acknowledged before exiting. */
  stop(): Promise<void>;
  /** SIGKILL: may lose the last second of acknowledged writes (its in-memory buffer). */
  kill(): Promise<void>;
}

async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${body.slice(0, 500)}`);
  return body;
}

/** Parse the JSON-lines body of /api/v1/export. */
export function parseExport(body: string): ExportedSeries[] {
  return body
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as ExportedSeries);
}

/**
 * Start a private VictoriaMetrics (the InfluxDB stand-in, see field notes) on a free loopback port:
 * `-search.latencyOffset=0s` so recent points are queryable, `-retentionPeriod=100y` so old timestamps are kept.
 */
export async function startVictoriaMetrics(opts: VictoriaMetricsOptions = {}): Promise<VictoriaMetricsHandle> {
  const server = await ServerProcess.launch({
    name: 'victoria-metrics',
    command: opts.command ?? '/usr/bin/victoria-metrics',
    debianPackage: 'victoria-metrics',
    args: (port, dir) => [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dir}/data`,
      '-search.latencyOffset=0s',
      '-retentionPeriod=100y',
      ...(opts.extraArgs ?? []),
    ],
    ready: httpProbe('/health'),
  });
  const base = () => `http://127.0.0.1:${server.port}`;

  const forceFlush = async (): Promise<void> => {
    await httpGet(`${base()}/internal/force_flush`);
  };
  const exportSeries = async (match: string): Promise<ExportedSeries[]> => {
    await forceFlush();
    const end = Math.ceil(Date.now() / 1000) + 60;
    const params = new URLSearchParams({ 'match[]': match, start: '0', end: String(end) });
    return parseExport(await httpGet(`${base()}/api/v1/export?${params.toString()}`));
  };
  const waitForSeries = async (
    match: string,
    predicate: (series: ExportedSeries[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<ExportedSeries[]> => {
    let last: ExportedSeries[] = [];
    return waitFor(
      async () => {
        last = await exportSeries(match);
        return predicate(last) ? last : undefined;
      },
      {
        timeoutMs,
        intervalMs: 100,
        message: () =>
          `VictoriaMetrics: series ${match} did not satisfy the predicate within ${timeoutMs} ms; ` +
          `last export (${last.length} series): ${JSON.stringify(last).slice(0, 1000)}`,
      },
    );
  };
  const countSamples = async (match: string): Promise<number> => (await exportSeries(match)).reduce((sum, s) => sum + s.values.length, 0);

  return {
    get port() {
      return server.port;
    },
    get url() {
      return base();
    },
    dir: server.dir,
    get pid() {
      return server.pid;
    },
    forceFlush,
    exportSeries,
    waitForSeries,
    countSamples,
    ...serverLifecycle(server),
  };
}
