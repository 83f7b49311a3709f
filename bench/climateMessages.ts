/**
 * The bench's message generator for the publisher fleet (test/harness/fleet). Device i publishes
 * `{"t":..,"h":..,"p":..,"ts":<send time, epoch ms>}` to `<prefix>/dev<i>/<measurement>`. Every `probeEvery`-th
 * message is instead a probe `{"seq":n,"t":..,"h":..,"p":..,"ts":..}` to `<prefix>/probe<child>/<measurement>_probe`
 * (a measurement of its own, so the latency read-back stays small). `ts` is the send time, made strictly increasing
 * per device (+1 ms when a device sends twice within a millisecond) so no two points of one series share a
 * timestamp and sample counts in the TSDB are exact.
 */
import { fileURLToPath } from 'node:url';
import type { FleetChild, FleetMessage, MessageGenerator } from '../test/harness/fleet/MessageGenerator.ts';

export const CLIMATE_MESSAGES = fileURLToPath(import.meta.url);

export interface ClimateOptions {
  topicPrefix: string;
  measurement: string;
  /** This child's devices, numbered from deviceOffset + 1. */
  devices: number;
  deviceOffset: number;
  /** Every n-th message is a latency probe; 0 = none. */
  probeEvery: number;
  /** Extra numeric fields `f0`… in every payload (payload-size scaling); default 0. */
  extraFields?: number;
}

export function createGenerator(options: unknown, child: FleetChild): MessageGenerator {
  const o = options as ClimateOptions;
  const topics: string[] = [];
  const lastTs: number[] = [];
  for (let d = 0; d < o.devices; d++) {
    topics.push(`${o.topicPrefix}/dev${o.deviceOffset + d + 1}/${o.measurement}`);
    lastTs.push(0);
  }
  const probeTopic = `${o.topicPrefix}/probe${child.index}/${o.measurement}_probe`;
  const extra = Array.from({ length: o.extraFields ?? 0 }, (_, i) => `"f${i}":${(i * 7.31).toFixed(2)},`).join('');
  let probeLastTs = 0;
  let probes = 0;
  let next = 0;
  const m: FleetMessage = { topic: '', payload: '' };
  return {
    next(n, now) {
      if (o.probeEvery > 0 && n % o.probeEvery === o.probeEvery - 1) {
        probeLastTs = Math.max(now, probeLastTs + 1);
        probes++;
        m.topic = probeTopic;
        m.payload = `{"seq":${probes},"t":21.5,"h":40.1,"p":1013.2,"ts":${probeLastTs}}`;
        return m;
      }
      const d = next;
      next = (next + 1) % o.devices;
      const ts = Math.max(now, lastTs[d]! + 1);
      lastTs[d] = ts;
      m.topic = topics[d]!;
      m.payload = `{"t":${20 + (n % 100) / 10},"h":${40 + (n % 37) / 10},"p":1013.2,${extra}"ts":${ts}}`;
      return m;
    },
    summary: () => ({ probes }),
  };
}
