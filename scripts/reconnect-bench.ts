/**
 * `npm run reconnect-bench`: how fast the gateway is back after a broker restart, and what a broker without
 * persistence costs. Runs the restart plan below against a real Mosquitto with persistence and again without,
 * under QoS 1 load, and prints per mode the delay from the broker listening again until messages flow to the
 * gateway again (its CONNACK when the session was present, else its SUBACKs; median and worst over every restart), what was lost, and the session losses the gateway counted.
 *
 *   node scripts/reconnect-bench.ts [--persistence both|on|off] [--rate MSG_PER_S] [--quick]
 *
 * Exit 0 when every restart was followed by a subscribe within 1.5 s, nothing was lost with persistence, and
 * every restart without persistence was counted as a session loss. Ends with a `reconnect-json {...}` line.
 */
import { parseArgs } from 'node:util';
import { runAsMain } from '../test/harness/index.ts';
import { type BrokerRestartResult, type Restart, runBrokerRestarts } from './reconnect/runBrokerRestarts.ts';

export const TARGET_MS = 1500;

/**
 * 11 restarts: single outages of 1, 5, 20 and 60 s, then six restarts 2–3 s apart (issue 16's flapping broker), then
 * a 30 s outage right after the flapping. Outages measured from SIGTERM, so the broker's own stop time is included.
 */
export const FULL_PLAN: readonly Restart[] = [
  { label: 'single', downMs: 1000, upMs: 4000 },
  { label: 'single', downMs: 5000, upMs: 4000 },
  { label: 'single', downMs: 20_000, upMs: 4000 },
  { label: 'single', downMs: 60_000, upMs: 4000 },
  ...[700, 1200, 500, 1500, 900, 1100].map((downMs, i) => ({ label: 'flap', downMs, upMs: 1500 + ((i * 370) % 1000) })),
  { label: 'after flapping', downMs: 30_000, upMs: 4000 },
];

/** The short variant inside npm test: one restart, two flaps. */
export const QUICK_PLAN: readonly Restart[] = [
  { label: 'single', downMs: 2000, upMs: 3000 },
  { label: 'flap', downMs: 600, upMs: 1800 },
  { label: 'flap', downMs: 900, upMs: 3000 },
];

/** What a run must show; empty when it does. */
export function problems(r: BrokerRestartResult, targetMs = TARGET_MS): string[] {
  const out: string[] = [];
  for (const [i, x] of r.restarts.entries()) {
    if (x.backAfterMs === undefined) out.push(`restart ${i + 1}: not back before the next stop`);
    else if (x.backAfterMs > targetMs) out.push(`restart ${i + 1} (${x.label}): back after ${x.backAfterMs} ms > ${targetMs}`);
  }
  if (r.persistence) {
    if (r.lost !== 0) out.push(`lost ${r.lost} with persistence`);
    if (r.sessionsLost !== 0) out.push(`${r.sessionsLost} session losses counted with persistence`);
    if (r.restarts.some((x) => x.sessionPresent !== true)) out.push('a reconnect without sessionPresent despite persistence');
  } else {
    if (r.sessionsLost !== r.restarts.length) out.push(`${r.sessionsLost} session losses counted for ${r.restarts.length} restarts`);
    if (r.lossWarnings !== r.restarts.length) out.push(`${r.lossWarnings} warnings for ${r.restarts.length} restarts`);
    if (r.lastSessionLoss === null) out.push('/status shows no session loss');
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { persistence: { type: 'string', default: 'both' }, rate: { type: 'string', default: '1000' }, quick: { type: 'boolean' } },
  });
  const modes = values.persistence === 'both' ? [true, false] : [values.persistence === 'on'];
  const plan = values.quick ? QUICK_PLAN : FULL_PLAN;
  const results: BrokerRestartResult[] = [];
  let failed = false;
  for (const persistence of modes) {
    const r = await runBrokerRestarts({
      persistence,
      plan,
      ratePerSecond: Number(values.rate),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    results.push(r);
    const p = problems(r);
    process.stdout.write(`${r.summary}${p.length > 0 ? `\n  PROBLEMS: ${p.join('; ')}` : ''}\n`);
    failed ||= p.length > 0;
  }
  process.stdout.write(`reconnect-json ${JSON.stringify({ at: new Date().toISOString(), rate: Number(values.rate), results })}\n`);
  return failed ? 1 : 0;
}

runAsMain(import.meta, 'reconnect-bench:', () => main(process.argv.slice(2)));
