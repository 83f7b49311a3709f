import type { Metric } from '../../sparkplug/SparkplugCodec.ts';
import type { RejectReason } from '../RouteResult.ts';

/** A metric of a message with its name, datatype and property tags resolved from the BIRTH. */
export interface ResolvedMetric {
  readonly name: string;
  readonly datatype: number;
  readonly metric: Metric;
  readonly tags: readonly (readonly [string, string])[];
}

/** A node or device going online or offline: written as a status point. */
export interface StatusEvent {
  readonly device: string | undefined;
  readonly online: boolean;
  readonly event: 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH';
  readonly bdSeq: string | undefined;
}

/** What the host makes of one message: metrics and status points to write, nothing (commands, STATE), or why not. */
export type HostOutcome =
  | { readonly kind: 'write'; readonly metrics: readonly ResolvedMetric[]; readonly status: readonly StatusEvent[] }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string };

export const IGNORED: HostOutcome = Object.freeze({ kind: 'ignored' });

export function rejected(reason: RejectReason, detail: string): HostOutcome {
  return { kind: 'rejected', reason, detail };
}
