import { redactUrlsInText } from '../log/redactUrlsIn.ts';
import type { GatewayView } from './GatewayView.ts';
import { latestValues } from './latestValues.ts';
import { readiness } from './readiness.ts';

/** The JSON of `GET /status`: everything an operator asks first, and no secret. */
export function statusReport(view: GatewayView, now: number = Date.now()) {
  const src = view.source;
  const mem = process.memoryUsage();
  return {
    gatewayId: view.gatewayId,
    version: view.version,
    time: new Date(now).toISOString(),
    uptimeSeconds: Math.round((now - view.startedAt) / 1000),
    readiness: readiness(view, now),
    config: view.config?.() ?? null,
    mqtt: {
      connected: src.connected,
      connects: src.connects,
      disconnects: src.disconnects,
      lastError: src.lastError === undefined ? null : redactUrlsInText(src.lastError),
      sessionsLost: src.sessionsLost,
      // mqtt.connections: each connection of the gateway (one unless it shares its subscriptions over several).
      connections: view.connections?.() ?? [],
      lastSessionLoss:
        src.lastSessionLoss === undefined
          ? null
          : {
              at: new Date(src.lastSessionLoss.at).toISOString(),
              reason: src.lastSessionLoss.reason,
              knownFrom: src.lastSessionLoss.knownFrom,
              awaySeconds: src.lastSessionLoss.awayMs === undefined ? null : src.lastSessionLoss.awayMs / 1000,
            },
    },
    messages: {
      received: src.received,
      accepted: src.accepted,
      unrouted: src.unrouted,
      rejected: src.rejected,
      rejectedByReason: Object.fromEntries(src.rejectedByReason),
      blocked: src.blocked,
      deadLettered: view.deadLetter?.published ?? 0,
      deadLetterDropped: view.deadLetter?.dropped ?? 0,
      deadLetterSkipped: view.deadLetter?.skipped ?? 0,
    },
    spool: { ...view.spool(), orphanedSinks: view.orphanedSinks?.() ?? [] },
    sinks: view.sinks.map((s) => {
      const st = s.stats;
      const b = s.backlog();
      return {
        name: st.name,
        type: st.type,
        breaker: st.breaker,
        pointsWritten: st.pointsWritten,
        pointsRejected: st.pointsRejected,
        pointsRetried: st.pointsRetried,
        pointsDropped: s.dropped(),
        pointsDuplicate: st.pointsDuplicate,
        failedAttempts: st.failedAttempts,
        backlog: { points: b.points, bytes: b.bytes, ageSeconds: b.oldestAt === undefined ? 0 : (now - b.oldestAt) / 1000 },
        throttledUntil: st.throttledUntil !== undefined && st.throttledUntil > now ? new Date(st.throttledUntil).toISOString() : null,
        lastWriteAt: st.lastWriteAt === undefined ? null : new Date(st.lastWriteAt).toISOString(),
        lastError:
          st.lastError === undefined
            ? null
            : { kind: st.lastError.kind, message: redactUrlsInText(st.lastError.message), at: new Date(st.lastError.at).toISOString() },
      };
    }),
    // Bounded (10 rejections, 20 series): the status page's "last dead letters" and "latest values".
    recent: {
      rejected: (view.recent?.rejections() ?? []).map((r) => ({ ...r, at: new Date(r.at).toISOString() })),
      latest: latestValues(view.recent?.entries() ?? []),
    },
    process: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external },
  };
}
