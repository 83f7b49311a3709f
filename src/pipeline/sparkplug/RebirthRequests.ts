import { DataType } from '../../sparkplug/DataType.ts';
import { encodePayload } from '../../sparkplug/SparkplugCodec.ts';
import { nodeCommandTopic } from '../../topic/SparkplugTopic.ts';
import { type NodeState, nodeKey } from './NodeState.ts';
import type { SparkplugStats } from './SparkplugStats.ts';

export interface RebirthRequestsOptions {
  readonly stats: SparkplugStats;
  /** Send requests at all: off by default, since it writes to the plant. */
  readonly enabled: boolean;
  /** At most one request per node per this many ms. */
  readonly minIntervalMs: number;
  /** Bound of the nodes never born that were asked (no state holds their time). */
  readonly maxNodes: number;
  /** Hands an MQTT message to the broker connection; false when it cannot (not connected). */
  readonly publish: ((topic: string, payload: Buffer) => boolean) | undefined;
  readonly now: () => number;
}

/**
 * Rebirth requests (NCMD `Node Control/Rebirth` = true), rate-limited per node: a known node's last request time
 * is on its state (so it survives a rebirth), a node never born has its own bounded map. Each request is counted:
 * sent, suppressed (off, or within the interval) or unsent (broker not connected: never queued).
 */
export class RebirthRequests {
  readonly #options: RebirthRequestsOptions;
  /** When a Rebirth was last asked of a node not known yet (no state to hold it); bounded like the nodes. */
  readonly #unbornAsked = new Map<string, number>();

  constructor(options: RebirthRequestsOptions) {
    this.#options = options;
  }

  /** Asks the node for a Rebirth when enabled and its last request is older than the minimum interval. */
  ask(group: string, node: string, state: NodeState | undefined): void {
    const { stats, enabled, minIntervalMs, publish, maxNodes, now: clock } = this.#options;
    const now = clock();
    const key = nodeKey(group, node);
    const last = state?.rebirthAt ?? this.#unbornAsked.get(key) ?? Number.NEGATIVE_INFINITY;
    if (!enabled || publish === undefined || now - last < minIntervalMs) {
      stats.rebirthsSuppressed++;
      return;
    }
    if (state !== undefined) {
      state.rebirthAt = now;
    } else {
      // A node never born sending data: one request per interval too, not one per message.
      if (this.#unbornAsked.size >= maxNodes) this.#unbornAsked.clear();
      this.#unbornAsked.set(key, now);
    }
    const payload = encodePayload({
      timestamp: now,
      metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, boolean_value: true }],
    });
    if (publish(nodeCommandTopic(group, node), payload)) stats.rebirthsSent++;
    else stats.rebirthsUnsent++;
  }

  /** The last request time of a node being born now (it moves onto its state), if it was asked before its birth. */
  takeUnborn(key: string): number | undefined {
    const at = this.#unbornAsked.get(key);
    this.#unbornAsked.delete(key);
    return at;
  }
}
