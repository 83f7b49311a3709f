/** The demo's final checks: a climate_t series per device in VictoriaMetrics, dev1's latest values in Redis. */
import { Redis } from 'ioredis';
import type { ExportedSeries, RedisHandle, VictoriaMetricsHandle } from '../../test/harness/index.ts';

export interface SinkCheck {
  ok: boolean;
  line: string;
}

export async function checkVictoriaMetrics(
  vm: VictoriaMetricsHandle,
  gatewayId: string,
  devices: number,
  acknowledged: number,
): Promise<SinkCheck> {
  try {
    const series: ExportedSeries[] = await vm.exportSeries('climate_t');
    const seen = new Set(series.filter((x) => x.metric['gateway'] === gatewayId).map((x) => x.metric['device']));
    const samples = series.reduce((n, x) => n + x.values.length, 0);
    const expected = Math.min(devices, acknowledged);
    return {
      ok: samples > 0,
      line:
        `${seen.size} climate_t series (${seen.size}/${expected} devices), ${samples} samples` +
        (seen.size < expected ? '  (some devices have no series!)' : ''),
    };
  } catch (e) {
    return { ok: false, line: `export failed: ${(e as Error).message}` };
  }
}

export async function checkRedis(redis: RedisHandle): Promise<SinkCheck> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 });
  try {
    await client.connect();
    const latest = await client.hgetall('eb:latest:{dev1}:climate');
    const times = await client.hgetall('eb:latest:{dev1}:climate:ts').catch(() => ({}) as Record<string, string>);
    const newest = Math.max(0, ...Object.values(times).map(Number).filter(Number.isFinite));
    const xlen = await client.xlen('eb:stream:{climate}');
    const values = Object.entries(latest)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const when = newest > 0 ? ` @ ${new Date(newest).toISOString()}` : '';
    return {
      ok: Object.keys(latest).length > 0,
      line: `dev1 latest {${values || 'none!'}}${when}; stream eb:stream:{climate} length ${xlen}`,
    };
  } catch (e) {
    return { ok: false, line: `read failed: ${(e as Error).message}` };
  } finally {
    client.disconnect();
  }
}
