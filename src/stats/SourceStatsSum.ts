import type { RejectReason } from '../pipeline/RouteResult.ts';
import type { SessionLoss, SourceStats, SourceStatsView } from './SourceStats.ts';

/**
 * The source figures of several MQTT connections as one (mqtt.connections > 1): counters are summed when read
 * (each connection bumps its own SourceStats on the hot path, nothing more), `connected` holds only while every
 * connection is up (a connection that is down leaves its share of a shared subscription waiting at the broker),
 * and the last error and session loss are those of the connection that has them.
 */
export class SourceStatsSum implements SourceStatsView {
  readonly #parts: readonly SourceStats[];

  constructor(parts: readonly SourceStats[]) {
    this.#parts = parts;
  }

  #sum(pick: (s: SourceStats) => number): number {
    let total = 0;
    for (const s of this.#parts) total += pick(s);
    return total;
  }

  get received(): number {
    return this.#sum((s) => s.received);
  }
  get receivedBytes(): number {
    return this.#sum((s) => s.receivedBytes);
  }
  get accepted(): number {
    return this.#sum((s) => s.accepted);
  }
  get unrouted(): number {
    return this.#sum((s) => s.unrouted);
  }
  get rejected(): number {
    return this.#sum((s) => s.rejected);
  }
  get blocked(): number {
    return this.#sum((s) => s.blocked);
  }
  get connects(): number {
    return this.#sum((s) => s.connects);
  }
  get disconnects(): number {
    return this.#sum((s) => s.disconnects);
  }
  get burstsUnwritten(): number {
    return this.#sum((s) => s.burstsUnwritten);
  }
  get subscriptionErrors(): number {
    return this.#sum((s) => s.subscriptionErrors);
  }
  get sessionsLost(): number {
    return this.#sum((s) => s.sessionsLost);
  }

  get connected(): boolean {
    return this.#parts.every((s) => s.connected);
  }

  /** How many of the connections are up. */
  get connectedCount(): number {
    return this.#sum((s) => (s.connected ? 1 : 0));
  }

  /** A disconnected connection's error first (that is what readiness explains), else any connection's. */
  get lastError(): string | undefined {
    return (this.#parts.find((s) => !s.connected && s.lastError !== undefined) ?? this.#parts.find((s) => s.lastError !== undefined))
      ?.lastError;
  }

  get lastSessionLoss(): (SessionLoss & { readonly at: number }) | undefined {
    let last: (SessionLoss & { readonly at: number }) | undefined;
    for (const s of this.#parts)
      if (s.lastSessionLoss !== undefined && (last === undefined || s.lastSessionLoss.at > last.at)) last = s.lastSessionLoss;
    return last;
  }

  get rejectedByReason(): ReadonlyMap<RejectReason, number> {
    const merged = new Map<RejectReason, number>();
    for (const s of this.#parts) for (const [reason, n] of s.rejectedByReason) merged.set(reason, (merged.get(reason) ?? 0) + n);
    return merged;
  }
}
