/** What landed in each sink, by seq: reading the sinks back and judging what is missing or duplicated. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { VictoriaMetricsHandle } from '../../test/harness/index.ts';
import type { SinkVerdict } from './types.ts';

export function verdict(values: Iterable<number>, n: number): SinkVerdict {
  const seen = new Uint8Array(n);
  let entries = 0;
  let landed = 0;
  for (const v of values) {
    entries++;
    if (Number.isInteger(v) && v >= 0 && v < n && seen[v] === 0) {
      seen[v] = 1;
      landed++;
    }
  }
  const missing: number[] = [];
  for (let i = 0; i < n && missing.length < 20; i++) if (seen[i] === 0) missing.push(i);
  return { landed, lost: n - landed, duplicates: entries - landed, entries, missing };
}

export function missingAll(values: Iterable<number>, n: number): number[] {
  const seen = new Uint8Array(n);
  for (const v of values) if (Number.isInteger(v) && v >= 0 && v < n) seen[v] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (seen[i] === 0) out.push(i);
  return out;
}

export async function influxSeqs(vm: VictoriaMetricsHandle): Promise<number[]> {
  const series = await vm.exportSeries('chaos_seq');
  return series.flatMap((s) => s.values);
}

/** Stream entry ids by seq (first entry), filled by redisSeqs: an id is Redis's clock when the gateway wrote it. */
export const redisIdsBySeq = new Map<number, string>();

export async function redisSeqs(url: string): Promise<number[]> {
  redisIdsBySeq.clear();
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
  await redis.connect();
  try {
    const out: number[] = [];
    let start = '-';
    for (;;) {
      const chunk = (await redis.xrange('eb:stream:{chaos}', start, '+', 'COUNT', 10_000)) as [string, string[]][];
      for (const [id, fields] of chunk) {
        let value = NaN;
        for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'seq') value = Number(fields[i + 1]);
        out.push(value);
        if (!redisIdsBySeq.has(value)) redisIdsBySeq.set(value, id);
      }
      if (chunk.length < 10_000) break;
      start = `(${chunk[chunk.length - 1]![0]}`;
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Consecutive runs of missing seqs, e.g. "1200-1299 (100)". */
export function ranges(missing: number[], max = 10): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < missing.length && out.length < max) {
    let j = i;
    while (j + 1 < missing.length && missing[j + 1] === missing[j]! + 1) j++;
    out.push(i === j ? `${missing[i]}` : `${missing[i]}-${missing[j]} (${j - i + 1})`);
    i = j + 1;
  }
  if (i < missing.length) out.push('…');
  return out;
}

/** Both sinks' seqs and verdicts; a loss is only final after a grace period: re-read (every 5 s, 30 s at most) while something is missing. */
export async function readBack(vm: VictoriaMetricsHandle, redisUrl: string, n: number, log: (line: string) => void) {
  const verifyDeadline = Date.now() + 30_000;
  for (;;) {
    const values = { influx: await influxSeqs(vm), redis: await redisSeqs(redisUrl) };
    const influx = verdict(values.influx, n);
    const redis = verdict(values.redis, n);
    if ((influx.lost === 0 && redis.lost === 0) || Date.now() > verifyDeadline) return { values, influx, redis };
    log(`verify: still missing influx=${influx.lost} redis=${redis.lost}; re-checking`);
    await sleep(5000);
  }
}
