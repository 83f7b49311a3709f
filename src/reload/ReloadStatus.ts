/** How a reload ended: the `result` label of `edgebridge_config_reloads_total`. */
export const RELOAD_RESULTS = ['applied', 'unchanged', 'invalid', 'restart_required', 'failed'] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

/** What `/status` shows as `config`. */
export interface ConfigStatusReport {
  /** When the configuration now running was loaded (start or the last applied reload), ISO time. */
  readonly loadedAt: string;
  /** Where it came from: the config file, or `environment and flags`. */
  readonly source: string;
  /** 1 at start, +1 per applied reload. */
  readonly generation: number;
  /** Why the last reload was not applied (null once one is applied, or none was refused). */
  readonly lastReloadError: { readonly result: ReloadResult; readonly message: string; readonly at: string } | null;
}

/** The configuration's history in this process: counted per outcome, the last refusal kept for `/status`. */
export class ReloadStatus {
  readonly results = new Map<ReloadResult, number>(RELOAD_RESULTS.map((r) => [r, 0]));
  #loadedAt: number;
  #source: string;
  #generation = 1;
  #lastError: { result: ReloadResult; message: string; at: number } | undefined;

  constructor(source: string, loadedAt: number) {
    this.#source = source;
    this.#loadedAt = loadedAt;
  }

  get generation(): number {
    return this.#generation;
  }

  applied(source: string, at: number): void {
    this.#count('applied');
    this.#generation++;
    this.#source = source;
    this.#loadedAt = at;
    this.#lastError = undefined;
  }

  unchanged(): void {
    this.#count('unchanged');
  }

  refused(result: Exclude<ReloadResult, 'applied' | 'unchanged'>, message: string, at: number): void {
    this.#count(result);
    this.#lastError = { result, message, at };
  }

  report(): ConfigStatusReport {
    const e = this.#lastError;
    return {
      loadedAt: new Date(this.#loadedAt).toISOString(),
      source: this.#source,
      generation: this.#generation,
      lastReloadError: e === undefined ? null : { result: e.result, message: e.message, at: new Date(e.at).toISOString() },
    };
  }

  #count(result: ReloadResult): void {
    this.results.set(result, (this.results.get(result) ?? 0) + 1);
  }
}
