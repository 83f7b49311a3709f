/**
 * `npm run chaos`: edgebridge under fire. Publishes N sequenced QoS 1 messages through a real Mosquitto, while a
 * seeded scheduler SIGKILLs the gateway and Redis and SIGTERMs VictoriaMetrics and Mosquitto, then checks that
 * every seq landed in both sinks.
 *
 *   node scripts/chaos.ts --messages 200000 --ack write|fsync|both --faults 3
 *        [--devices 100] [--publishers 4] [--rate MSG_PER_S] [--seed N]
 *
 * Prints one summary line per ack mode, e.g.
 *   chaos ack=write sent=200000 influx=200000 redis=200000 lost=0/0 duplicates=12/340 peakRss=61.2MB
 *         peakBacklog=3.4MB diskBytesPerMsg=142 faults=gateway:3,redis:3,vm:3,mqtt:3 elapsed=95s
 * (lost and duplicates are influx/redis; MB = 10^6 bytes), then a `chaos-json {...}` line. Exit 0 only when nothing
 * was lost in either sink in any run.
 *
 * Importable: `runChaos(opts)`. The run is scripts/chaos/runChaos.ts; this file is its command line.
 */
import { parseArgs } from 'node:util';
import { runAsMain } from '../test/harness/index.ts';
import { runChaos } from './chaos/runChaos.ts';
import type { AckMode } from './chaos/types.ts';

export { runChaos } from './chaos/runChaos.ts';
export type { AckMode, ChaosOptions, ChaosResult, FaultKind, FaultRecord, SinkVerdict } from './chaos/types.ts';

const USAGE = `usage: node scripts/chaos.ts [--messages N] [--ack write|fsync|both] [--faults K]
       [--devices D] [--publishers P] [--rate MSG_PER_S] [--seed S]
  --messages    sequenced QoS 1 messages to publish (default 200000)
  --ack         spool acknowledgement mode; both = write, then fsync (default both)
  --faults      how many times each fault (gateway, redis, vm, mqtt) is injected (default 3)
  --devices     devices the seqs are spread over (default 100)
  --publishers  MQTT publisher connections (default 4)
  --rate        total publish rate (default: spread over max(12 s, 20 s per fault of each kind))
  --seed        PRNG seed for the fault schedule (default 1)
`;

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        messages: { type: 'string' },
        ack: { type: 'string' },
        faults: { type: 'string' },
        devices: { type: 'string' },
        publishers: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const int = (name: string, fallback: number, min = 1): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${String(text)}"`);
    return v;
  };
  let modes: AckMode[];
  let messages: number, faults: number, devices: number, publishers: number, seed: number;
  let rate: number | undefined;
  try {
    const ack = (values.ack as string | undefined) ?? 'both';
    if (ack !== 'write' && ack !== 'fsync' && ack !== 'both') throw new Error(`--ack must be write, fsync or both, got "${ack}"`);
    modes = ack === 'both' ? ['write', 'fsync'] : [ack];
    messages = int('messages', 200_000);
    faults = int('faults', 3, 0);
    devices = int('devices', 100);
    publishers = int('publishers', 4);
    seed = int('seed', 1, 0);
    rate = values.rate === undefined ? undefined : int('rate', 1);
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let ok = true;
  const summaries: string[] = [];
  for (const ack of modes) {
    const result = await runChaos({
      messages,
      devices,
      ack,
      faultsEach: faults,
      publishers,
      seed,
      ...(rate !== undefined ? { ratePerSecond: rate } : {}),
      log: (line) => process.stderr.write(line + '\n'),
    });
    process.stdout.write(result.summary + '\n');
    process.stdout.write(`chaos-json ${result.json}\n`);
    summaries.push(result.summary);
    ok &&= result.ok;
  }
  if (modes.length > 1) process.stderr.write(`\n${summaries.join('\n')}\n`);
  return ok ? 0 : 1;
}

runAsMain(import.meta, 'chaos:', () => main(process.argv.slice(2)));
