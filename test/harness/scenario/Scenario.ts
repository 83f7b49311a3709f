/**
 * The scenario runner's context: what every scenario (bench, chaos, bulk, demo, outage soak) needs besides its
 * own logic. It logs with the scenario's prefix, collects problems, times phases, starts the servers and undoes
 * everything it was asked to (in reverse order, each step's failure swallowed) when the scenario ends.
 */
import { startServers, type Servers } from '../startServers.ts';
import type { MosquittoOptions } from '../Mosquitto.ts';
import type { RedisOptions } from '../Redis.ts';
import type { VictoriaMetricsOptions } from '../VictoriaMetrics.ts';

type Cleanup = () => unknown;

export class Scenario {
  readonly name: string;
  readonly log: (line: string) => void;
  /** What went wrong but did not stop the scenario; reported at the end. */
  readonly problems: string[] = [];
  /** Seconds spent in each named phase (see timed). */
  readonly phaseSeconds: Record<string, number> = {};
  readonly #cleanups: Cleanup[] = [];

  constructor(name: string, log: (line: string) => void) {
    this.name = name;
    this.log = log;
  }

  /** Runs at close(), before the cleanups registered earlier. */
  defer(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs fn, adding its wall time to phaseSeconds[name] (0.1 s resolution). */
  async timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.phaseSeconds[name] = Math.round(((this.phaseSeconds[name] ?? 0) + (performance.now() - t0) / 1000) * 10) / 10;
    }
  }

  /** Mosquitto, redis-server and VictoriaMetrics on free ports, destroyed at close(). */
  async servers(
    opts: { mosquitto?: MosquittoOptions; redis?: RedisOptions; victoriaMetrics?: VictoriaMetricsOptions } = {},
  ): Promise<Servers> {
    const servers = await startServers(opts);
    this.defer(() => servers.destroy());
    return servers;
  }

  /** Undoes everything deferred, newest first. */
  async close(): Promise<void> {
    while (this.#cleanups.length > 0) {
      const cleanup = this.#cleanups.pop()!;
      try {
        await cleanup();
      } catch {
        // best effort: the rest must still run
      }
    }
  }
}

/** Runs fn with a fresh Scenario and closes it however fn ends. */
export async function withScenario<T>(name: string, log: (line: string) => void, fn: (s: Scenario) => Promise<T>): Promise<T> {
  const scenario = new Scenario(name, log);
  try {
    return await fn(scenario);
  } finally {
    await scenario.close();
  }
}

/**
 * The command-line end of a scenario file: when `meta` is the entry module, runs main and exits with its code;
 * an exception is printed as `<failPrefix> <stack>` and exits 1.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a main that returns nothing exits 0
export function runAsMain(meta: ImportMeta, failPrefix: string, main: () => Promise<number | void>): void {
  if (!meta.main) return;
  main().then(
    (code) => process.exit(code ?? process.exitCode ?? 0),
    (err: unknown) => {
      process.stderr.write(`${failPrefix} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
