/** What a chaos run is given and what it reports. */
import type { AckMode } from '../../test/harness/index.ts';

export type { AckMode };
export type FaultKind = 'gateway' | 'redis' | 'vm' | 'mqtt';
export const FAULT_KINDS: readonly FaultKind[] = ['gateway', 'redis', 'vm', 'mqtt'];

export interface ChaosOptions {
  messages: number;
  devices: number;
  ack: AckMode;
  /** How many times each of the four faults is injected. */
  faultsEach: number;
  publishers: number;
  /** Total publish rate; default: N spread over max(12 s, 20 s per fault of each kind). */
  ratePerSecond?: number;
  seed?: number;
  log?: (line: string) => void;
  /** How long to wait for the gateway to drain after publishing (default max(120 s, N / 500 s)). */
  drainTimeoutMs?: number;
}

export interface SinkVerdict {
  /** Distinct seqs found. */
  landed: number;
  lost: number;
  /** Entries minus distinct seqs. */
  duplicates: number;
  entries: number;
  /** First missing seqs (at most 20). */
  missing: number[];
}

export interface FaultRecord {
  kind: FaultKind;
  /** ms since the run started. */
  at: number;
  downMs: number;
  /** ms since start when the server/gateway answered again. */
  upAt: number;
}

export interface ChaosResult {
  ok: boolean;
  summary: string;
  json: string;
  ack: AckMode;
  sent: number;
  /** Publishes including resends after a broker outage. */
  publishes: number;
  resends: number;
  influx: SinkVerdict;
  redis: SinkVerdict;
  peakRssBytes: number;
  peakBacklogBytes: number;
  diskBytesPerMsg: number;
  diskWriteBytes: number;
  gatewayStarts: number;
  faults: FaultRecord[];
  elapsedMs: number;
  publishMs: number;
  drainMs: number;
  /** Diagnostics for missing seqs: when they were published and acknowledged, and the faults near them. */
  lossReport: string[];
}
