/** What a power-cut run is given and what it reports. */
import type { ReplayResult } from './writeLog.ts';

/** fsync / write: spool.ack, plain SIGKILL of qemu; lostcache*: the data disk's volatile cache is lost too. */
export type PowercutMode = 'fsync' | 'write' | 'lostcache' | 'write-lostcache';
export const POWERCUT_MODES: readonly PowercutMode[] = ['fsync', 'write', 'lostcache', 'write-lostcache'];

export function modeSpec(mode: PowercutMode): { ack: 'fsync' | 'write'; lostCache: boolean } {
  return { ack: mode === 'write' || mode === 'write-lostcache' ? 'write' : 'fsync', lostCache: mode.endsWith('lostcache') };
}

export interface PowercutOptions {
  mode: PowercutMode;
  cuts: number;
  /** QoS 1 messages per second from the host, over all publishers. */
  rate: number;
  devices: number;
  publishers: number;
  fsyncIntervalMs: number;
  /** lostcache modes: probability that a write after the last flush reached the medium anyway. */
  laterWriteProbability: number;
  /** The cut comes this many ms (uniform) after the gateway has acknowledged 2 s worth of the cycle's traffic. */
  cutAfterMs: [number, number];
  seed: number;
  /** How long a boot may take until the gateway is connected, and then until it has drained (each). */
  recoveryTimeoutMs: number;
  log: (line: string) => void;
  /** Called after each judged cut (the CLI rewrites its JSON file, so a long run leaves figures when stopped). */
  onCut?: (cut: CutRecord) => void;
  keepTmp: boolean;
}

export interface CutRecord {
  index: number;
  /** ms from the cycle's first publish to the cut. */
  trafficMs: number;
  /** Seqs the broker PUBACKed to the host's publisher before the cut. */
  publisherAcked: number;
  /** Seqs the gateway PUBACKed to the broker before the cut (seen by the host's MqttTap). */
  gatewayAcked: number;
  /** Of the gateway-acknowledged seqs: how many are missing from Redis after recovery, and the youngest/oldest age. */
  lostGatewayAcked: number;
  lostAgeMs: { min: number; max: number } | null;
  /** PUBACKed to the publisher by Mosquitto, never delivered to and acknowledged by the gateway, and gone. */
  lostAtBroker: number;
  /** ms from qemu's start (the next boot) until the gateway answered /status connected to the broker. */
  recoveryMs: number;
  /** The spool's recovery figures reported by /status after the next boot. */
  spool: Record<string, unknown>;
  replay?: ReplayResult;
  ok: boolean;
  problems: string[];
}

export interface PowercutResult {
  mode: PowercutMode;
  ok: boolean;
  cuts: CutRecord[];
  boots: number;
  /** Boots repeated because the emulated kernel died before it touched the data disk (not a gateway failure). */
  emulatorRetries: number;
  gatewayExits: number;
  elapsedMs: number;
  summary: string;
}
