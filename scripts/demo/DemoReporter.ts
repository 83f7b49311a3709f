/** The demo's line every 2 s: messages published, received, written per sink, backlogs and breakers. */
import type { GatewayStatus } from '../../test/harness/index.ts';
import type { Simulator, SimStats } from '../simulator.ts';

const rate = (now: number, before: number, seconds: number): string => String(Math.round((now - before) / seconds));

export async function getJson<T>(url: string, timeoutMs = 2000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  return (await res.json()) as T;
}

export class DemoReporter {
  readonly #sim: Simulator;
  readonly #statusUrl: string;
  readonly #gatewayDied: () => boolean;
  readonly #out: (line: string) => void;
  #last: { at: number; sim: SimStats; gw: GatewayStatus | undefined } | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The last /status that answered. */
  lastGood: GatewayStatus | undefined;

  constructor(sim: Simulator, gatewayUrl: string, gatewayDied: () => boolean, out: (line: string) => void) {
    this.#sim = sim;
    this.#statusUrl = `${gatewayUrl}/status`;
    this.#gatewayDied = gatewayDied;
    this.#out = out;
  }

  async start(everyMs: number): Promise<void> {
    this.lastGood = await getJson<GatewayStatus>(this.#statusUrl).catch(() => undefined);
    this.#last = { at: Date.now(), sim: this.#sim.stats(), gw: this.lastGood };
    this.#timer = setInterval(() => void this.#report(), everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #report(): Promise<void> {
    const last = this.#last!;
    const now = Date.now();
    const s = this.#sim.stats();
    let gw: GatewayStatus | undefined;
    try {
      gw = await getJson<GatewayStatus>(this.#statusUrl);
      this.lastGood = gw;
    } catch {
      gw = undefined;
    }
    const dt = Math.max(0.001, (now - last.at) / 1000);
    const parts = [`${s.elapsedSeconds.toFixed(0).padStart(4)}s`, `pub ${rate(s.published, last.sim.published, dt)}/s`];
    if (gw === undefined) {
      parts.push(this.#gatewayDied() ? 'gateway EXITED' : 'gateway /status not answering');
    } else {
      const prev = last.gw;
      parts.push(`recv ${prev ? rate(gw.messages.received, prev.messages.received, dt) : '-'}/s`);
      for (const sink of gw.sinks) {
        const before = prev?.sinks.find((p) => p.name === sink.name);
        parts.push(`${sink.name} ${before ? rate(sink.pointsWritten, before.pointsWritten, dt) : '-'}/s (${sink.pointsWritten})`);
      }
      parts.push(`backlog ${gw.sinks.map((k) => k.backlog.points).join('/')}`);
      parts.push(`breaker ${gw.sinks.map((k) => k.breaker).join('/')}`);
    }
    this.#out(parts.join('  '));
    this.#last = { at: now, sim: s, gw };
  }
}
