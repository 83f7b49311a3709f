/** The parts of the gateway's `GET /status` that tests, bench and scripts read. */
export interface GatewayStatus {
  readiness: { ready: boolean; problems: string[] };
  mqtt: {
    connected: boolean;
    connects: number;
    disconnects: number;
    sessionsLost: number;
    lastSessionLoss: { at: string; reason: 'lost' | 'expired'; knownFrom: string; awaySeconds: number | null } | null;
  };
  messages: {
    received: number;
    accepted: number;
    unrouted: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    deadLettered: number;
    deadLetterDropped: number;
  };
  spool: { bytesWritten?: number; fsyncs?: number };
  sinks: {
    name: string;
    breaker: string;
    pointsWritten: number;
    pointsRejected: number;
    pointsRetried: number;
    pointsDropped: number;
    backlog: { points: number; bytes: number; ageSeconds: number };
    lastError: { kind: string; message: string } | null;
  }[];
  process: { rssBytes: number; heapUsedBytes: number };
}
