import type { RejectReason } from '../pipeline/RouteResult.ts';

/**
 * Plain counters of the MQTT side, bumped on the hot path (a field increment, nothing more) and read by the
 * metrics registry only when scraped. Invariant: received = accepted + unrouted + rejected (+ in progress).
 */
export class SourceStats {
  received = 0;
  receivedBytes = 0;
  accepted = 0;
  unrouted = 0;
  rejected = 0;
  readonly rejectedByReason = new Map<RejectReason, number>();
  /** Messages held unacknowledged because the spool was full (block policy). */
  blocked = 0;
  connected = false;
  connects = 0;
  disconnects = 0;
  lastError: string | undefined;
  /**
   * Bursts whose spool records could not be written (disk full, I/O error): the connection was dropped before
   * their acknowledgements left, so the broker redelivers their QoS 1/2 messages.
   */
  burstsUnwritten = 0;
  /** Subscriptions the broker refused (or failed) on the current connection. */
  subscriptionErrors = 0;
  /** CONNACKs without the persistent session the broker should have held (see SessionWatch). */
  sessionsLost = 0;
  lastSessionLoss: (SessionLoss & { readonly at: number }) | undefined;

  reject(reason: RejectReason): void {
    this.rejected++;
    this.rejectedByReason.set(reason, (this.rejectedByReason.get(reason) ?? 0) + 1);
  }
}

/** A CONNACK without the session the broker should have held: what it dropped is gone, and nobody else will say so. */
export interface SessionLoss {
  /** expired: the gateway was away (in this process) longer than the MQTT 5 session expiry; lost: otherwise. */
  readonly reason: 'lost' | 'expired';
  /** How the gateway knew the session existed: from this process, or from the marker of an earlier run. */
  readonly knownFrom: 'this process' | 'earlier run';
  /** How long the connection was down, when this process saw it go (ms). */
  readonly awayMs: number | undefined;
}

/** What the health server and the metrics read of the source: one connection's SourceStats, or their sum. */
export type SourceStatsView = Readonly<Omit<SourceStats, 'reject' | 'rejectedByReason' | 'lastSessionLoss'>> & {
  readonly rejectedByReason: ReadonlyMap<RejectReason, number>;
  readonly lastSessionLoss: (SessionLoss & { readonly at: number }) | undefined;
};
