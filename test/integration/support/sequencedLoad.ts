import type { Publisher } from '../../harness/index.ts';

/**
 * Publishes sequenced QoS 1 readings at a steady pace until stopped: `sensors/<device>/seqtest` with
 * `{"seq": n, "ts": epoch ms}`, devices in turn. Every seq lands as the value of series `seqtest_seq`.
 * Several loads at once each take their own `measurement` (series `<measurement>_seq`, stream `{<measurement>}`)
 * and `root` (first topic level), so that their sequence numbers stay apart.
 */
export class SequencedLoad {
  readonly #pub: Publisher;
  readonly #devices: number;
  readonly #intervalMs: number;
  readonly #measurement: string;
  readonly #root: string;
  sent = 0;
  #running: Promise<void> | undefined;
  #stop = false;

  constructor(pub: Publisher, options: { devices: number; intervalMs: number; measurement?: string; root?: string }) {
    this.#pub = pub;
    this.#devices = options.devices;
    this.#intervalMs = options.intervalMs;
    this.#measurement = options.measurement ?? 'seqtest';
    this.#root = options.root ?? 'sensors';
  }

  start(): void {
    this.#running = (async () => {
      while (!this.#stop) {
        const seq = this.sent;
        await this.#pub.publish(`${this.#root}/d${seq % this.#devices}/${this.#measurement}`, JSON.stringify({ seq, ts: Date.now() }), 1);
        this.sent++;
        await new Promise((r) => setTimeout(r, this.#intervalMs));
      }
    })();
  }

  async stop(): Promise<number> {
    this.#stop = true;
    await this.#running;
    return this.sent;
  }
}

/** Which of 0..n-1 are missing from the values. */
export function missing(values: Iterable<number>, n: number): number[] {
  const seen = new Set(values);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) out.push(i);
  return out;
}
