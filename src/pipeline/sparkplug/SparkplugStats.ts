import { SKIP_REASONS, type SkipReason } from './metricFields.ts';

/** Plain counters of the Sparkplug host (read by /metrics when scraped; bumped on the hot path as field increments). */
export class SparkplugStats {
  /** Metrics (or parts of one: DataSet cells, template members, array elements) that wrote no field, by why. */
  readonly skipped = new Map<SkipReason, number>(SKIP_REASONS.map((r) => [r, 0]));
  /** Rebirth requests (NCMD `Node Control/Rebirth`) handed to the broker connection. */
  rebirthsSent = 0;
  /** Rebirth requests not sent: within a node's minimum interval, or requests off (`sparkplug.rebirth=false`). */
  rebirthsSuppressed = 0;
  /** Rebirth requests that could not be sent (broker not connected). */
  rebirthsUnsent = 0;
  /** Nodes forgotten because more than `sparkplug.maxNodes` were known (least recently heard from first). */
  nodesEvicted = 0;
  /** Alias-map files that could not be written or read; the state in memory is still right. */
  storeErrors = 0;
  lastStoreError: string | undefined;
  /** Edge nodes known, and how many of them are online (set by the host). */
  nodes = 0;
  nodesOnline = 0;

  skip(reason: SkipReason): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }
}
