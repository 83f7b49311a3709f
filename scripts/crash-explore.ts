/**
 * The spool's crash-state explorer, long runs: npm run crash-explore -- --seed N --states N [--ack write|fsync|both]
 * [--messages N]. Exits 1 when any invariant failed (the failing states are printed).
 */
import { parseArgs } from 'node:util';
import { exploreCrashes, formatReport } from '../test/harness/crash/exploreCrashes.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    states: { type: 'string', default: '20000' },
    ack: { type: 'string', default: 'both' },
    messages: { type: 'string', default: '400' },
  },
});
const acks = values.ack === 'both' ? (['fsync', 'write'] as const) : ([values.ack] as ('fsync' | 'write')[]);
let failed = false;
for (const ack of acks) {
  const r = await exploreCrashes({
    seed: Number(values.seed),
    ack,
    states: Math.round(Number(values.states) / acks.length),
    messages: Number(values.messages),
    maxFailures: 20,
  });
  console.log(formatReport(r));
  failed ||= r.failures.length > 0;
}
process.exit(failed ? 1 : 0);
