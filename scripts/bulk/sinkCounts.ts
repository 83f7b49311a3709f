import { Redis } from 'ioredis';
import { MARKER } from './generateMessage.ts';

/** Samples of every `<measurement>_bulkseq` series in VictoriaMetrics: one per point written by the influx sink. */
export async function countVictoriaMetrics(baseUrl: string): Promise<number> {
  const flush = await fetch(`${baseUrl}/internal/force_flush`, { signal: AbortSignal.timeout(30_000) });
  await flush.arrayBuffer();
  const params = new URLSearchParams({
    'match[]': `{__name__=~".*_${MARKER}"}`,
    start: '0',
    end: String(Math.ceil(Date.now() / 1000) + 60),
  });
  const res = await fetch(`${baseUrl}/api/v1/export?${params.toString()}`, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`VictoriaMetrics export → ${res.status}: ${(await res.text()).slice(0, 300)}`);
  let samples = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.trim() !== '') samples += (JSON.parse(line) as { values: unknown[] }).values.length;
  }
  return samples;
}

/** Entries of every stream under `<prefix>stream:` (XLEN summed): one per point written by the redis sink. */
export async function countRedisStreams(url: string, prefix: string): Promise<{ streams: number; entries: number }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let cursor = '0';
    let streams = 0;
    let entries = 0;
    do {
      const [next, keys] = (await redis.call('SCAN', cursor, 'MATCH', `${prefix}stream:*`, 'COUNT', 1000, 'TYPE', 'stream')) as [
        string,
        string[],
      ];
      cursor = next;
      for (const key of keys) {
        streams++;
        entries += await redis.xlen(key);
      }
    } while (cursor !== '0');
    return { streams, entries };
  } finally {
    redis.disconnect();
  }
}

/** Lines VictoriaMetrics could not parse (it answers 204 and skips them): `vm_rows_invalid_total{type="influx"}`. */
export async function victoriaMetricsInvalidRows(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const m = /^vm_rows_invalid_total\{type="influx"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}
