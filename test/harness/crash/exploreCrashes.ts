import { mulberry32 } from '../../../scripts/bulk/prng.ts';
import { checkCrashState, INVARIANTS } from './checkCrashState.ts';
import { buildCrashState, crashChoices, durableOps, sectorCount } from './crashStates.ts';
import { runSpoolWorkload, type CrashAck } from './spoolWorkload.ts';

export interface ExploreOptions {
  readonly seed: number;
  readonly ack: CrashAck;
  /** Crash states to check (about: crash points × choices per point). */
  readonly states: number;
  /** Messages in the workload. */
  readonly messages?: number;
  /** Stop at the first states that fail (their descriptions are kept). */
  readonly maxFailures?: number;
  /** The explorer's own test: a disk whose fdatasync makes nothing durable must fail the ack=fsync invariant. */
  readonly lyingFdatasync?: boolean;
}

export interface ExploreReport {
  readonly seed: number;
  readonly ack: CrashAck;
  readonly ops: number;
  readonly syncPoints: number;
  readonly crashPoints: number;
  readonly states: number;
  /** States with a torn write, with unsynced ops applied only in part, with damage the spool had to repair. */
  readonly torn: number;
  readonly partial: number;
  readonly damaged: number;
  /** Acknowledged records (per sink) lost within what the ack mode allows (ack=write, not yet covered by an fdatasync). */
  readonly lostAllowed: number;
  readonly failures: { readonly at: number; readonly label: string; readonly violations: string[] }[];
  readonly ms: number;
}

/**
 * The crash-state explorer (after ALICE and CrashMonkey): runs a seeded spool workload on a recording in-memory
 * filesystem, picks crash points (just before and just after every fdatasync and directory fsync, and random ones
 * between), builds the states a power cut there could leave (see crashStates.ts), opens a spool on each and checks
 * the invariants (checkCrashState.ts).
 */
export async function exploreCrashes(options: ExploreOptions): Promise<ExploreReport> {
  const started = performance.now();
  const rng = mulberry32(options.seed ^ 0x5eed);
  const w = await runSpoolWorkload({
    seed: options.seed,
    ack: options.ack,
    messages: options.messages ?? 240,
    lyingFdatasync: options.lyingFdatasync,
  });
  const ops = w.fs.ops;
  const syncAt: number[] = [];
  ops.forEach((op, i) => {
    if (op.kind === 'fdatasync' || op.kind === 'fsyncDir') syncAt.push(i);
  });
  const points = new Set<number>([ops.length]);
  for (const i of syncAt) {
    points.add(i);
    points.add(i + 1);
  }
  // Random points between the boundaries: about as many again.
  for (let k = 0; k < syncAt.length + 8; k++) points.add(1 + Math.floor(rng() * ops.length));
  const crashPoints = [...points].sort((a, b) => a - b);
  const perPoint = Math.max(2, Math.round(options.states / crashPoints.length));
  let states = 0;
  let torn = 0;
  let partial = 0;
  let damaged = 0;
  let lostAllowed = 0;
  const failures: ExploreReport['failures'] = [];
  for (const at of crashPoints) {
    const durable = durableOps(ops, at);
    const unsynced = new Map<number, number[]>();
    for (let i = 0; i < at; i++) {
      const op = ops[i]!;
      if (durable[i] || (op.kind !== 'write' && op.kind !== 'truncate')) continue;
      if (!unsynced.has(op.ino)) unsynced.set(op.ino, []);
      unsynced.get(op.ino)!.push(op.kind === 'write' ? sectorCount(op.offset, op.data.length) : 0);
    }
    for (const choice of crashChoices(unsynced, rng, perPoint - 2)) {
      const state = buildCrashState(ops, at, durable, choice);
      const verdict = await checkCrashState(w, state);
      states++;
      if (choice.torn) torn++;
      if (state.applied > 0 && state.applied < state.unsynced) partial++;
      if (verdict.damaged) damaged++;
      lostAllowed += verdict.lostAllowed;
      if (verdict.violations.length > 0) {
        failures.push({ at, label: choice.label, violations: verdict.violations });
        if (failures.length >= (options.maxFailures ?? 5)) return report();
      }
    }
  }
  return report();

  function report(): ExploreReport {
    return {
      seed: options.seed,
      ack: options.ack,
      ops: ops.length,
      syncPoints: syncAt.length,
      crashPoints: crashPoints.length,
      states,
      torn,
      partial,
      damaged,
      lostAllowed,
      failures,
      ms: performance.now() - started,
    };
  }
}

/** One line per run, and each failure with its violations. */
export function formatReport(r: ExploreReport): string {
  const head =
    `crash states ack=${r.ack} seed ${r.seed}: ${r.states} states at ${r.crashPoints} crash points ` +
    `(${r.ops} fs ops, ${r.syncPoints} fdatasync/fsync), ${r.torn} with a torn write, ${r.partial} with unsynced ops in part, ` +
    `${r.damaged} with damage to repair; ${r.lostAllowed} acknowledged record copies lost within the fsync window; ` +
    `${INVARIANTS.length} invariants, ${r.failures.length === 0 ? 'all held' : `${r.failures.length} failing states`} (${(r.ms / 1000).toFixed(1)} s)`;
  return [head, ...r.failures.flatMap((f) => [`  cut after op ${f.at} (${f.label}):`, ...f.violations.map((v) => `    ${v}`)])].join('\n');
}
