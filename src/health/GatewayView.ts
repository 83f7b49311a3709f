import type { Backlog, SpoolStats } from '../spool/Spool.ts';
import type { SinkStats } from '../stats/SinkStats.ts';
import type { SourceStatsView } from '../stats/SourceStats.ts';
import type { DeadLetterStats } from '../source/DeadLetter.ts';
import type { RecentMessages } from '../stats/RecentMessages.ts';
import type { ConfigStatusReport, ReloadResult } from '../reload/ReloadStatus.ts';
import type { SparkplugStats } from '../pipeline/sparkplug/SparkplugStats.ts';
import type { DeadbandStats } from '../pipeline/deadband/DeadbandStats.ts';

/** What the health server and the metrics read of the running gateway; nothing here is written by them. */
export interface GatewayView {
  readonly gatewayId: string;
  readonly version: string;
  readonly startedAt: number;
  readonly source: SourceStatsView;
  /** Each MQTT connection (mqtt.connections): its client id and figures; absent: not tracked. */
  connections?(): readonly ConnectionView[];
  /** Rejected messages re-published to the dead-letter topic, and those dropped (absent: no dead letter). */
  readonly deadLetter?: DeadLetterStats;
  readonly sinks: readonly SinkView[];
  /** The last accepted and rejected messages, bounded (the status page); absent: not kept. */
  readonly recent?: RecentMessages;
  spool(): SpoolStats;
  /** Sinks the spool holds a backlog for that are not configured (found at start-up); absent: none looked for. */
  orphanedSinks?(): readonly { readonly sink: string; readonly segments: number }[];
  /** The Sparkplug host's counters (absent: no `sparkplug` route). */
  readonly sparkplug?: SparkplugStats;
  /** Report-by-exception counters of the routes with a deadband (absent: not counted). */
  readonly deadband?: DeadbandStats;
  /** True from the first shutdown signal on. */
  shuttingDown(): boolean;
  /** The configuration running (loaded when, from where, which generation, the last refused reload); absent: not tracked. */
  config?(): ConfigStatusReport;
  /** Reloads per outcome since start. */
  reloads?(): ReadonlyMap<ReloadResult, number>;
}

export interface SinkView {
  readonly stats: SinkStats;
  backlog(): Backlog;
  /** Points lost to the spool's overflow policy. */
  dropped(): number;
}

export interface ConnectionView {
  readonly clientId: string;
  readonly connected: boolean;
  readonly received: number;
  readonly connects: number;
}
