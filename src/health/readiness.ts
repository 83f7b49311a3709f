import { redactUrlsInText } from '../log/redactUrlsIn.ts';
import type { GatewayView } from './GatewayView.ts';

export interface Readiness {
  readonly ready: boolean;
  /** One line per problem, for people and probes; never a secret. */
  readonly problems: readonly string[];
}

/** Ready = connected to the broker, no sink's breaker open or throttled, spool accepting, not shutting down. */
export function readiness(view: GatewayView, now: number = Date.now()): Readiness {
  const problems: string[] = [];
  if (view.shuttingDown()) problems.push('shutting down');
  if (!view.source.connected) {
    // Several connections: one that is down leaves its turn of the shared subscription waiting at the broker.
    const connections = view.connections?.() ?? [];
    const down = connections.filter((c) => !c.connected);
    const which =
      connections.length > 1 ? ` (${down.length} of ${connections.length} connections: ${down.map((c) => c.clientId).join(', ')})` : '';
    problems.push(`mqtt: not connected${which}${view.source.lastError ? ` (${redactUrlsInText(view.source.lastError)})` : ''}`);
  }
  for (const s of view.sinks) {
    const st = s.stats;
    if (st.breaker === 'open' || st.breaker === 'isolated') {
      const why = st.lastError ? `: ${st.lastError.kind}: ${redactUrlsInText(st.lastError.message)}` : '';
      problems.push(`sink ${st.name}: circuit breaker ${st.breaker}${why}`);
    }
    if (st.throttledUntil !== undefined && st.throttledUntil > now) {
      problems.push(
        `sink ${st.name}: throttled until ${new Date(st.throttledUntil).toISOString()} (the server asked to wait: Retry-After, capped at retryMaxMs)`,
      );
    }
  }
  const spool = view.spool();
  if (spool.full) {
    const why =
      spool.fullReason === 'maxBytes' ? 'spool.maxBytes reached (overflow policy block)' : `cannot write: ${spool.fullReason ?? 'unknown'}`;
    problems.push(`spool: full, messages are not being acknowledged (${why})`);
  }
  // Counted per connection (reset on connect): while disconnected, "not connected" above says it all.
  if (view.source.connected && view.source.subscriptionErrors > 0)
    problems.push(`mqtt: ${view.source.subscriptionErrors} subscription(s) refused by the broker`);
  return { ready: problems.length === 0, problems };
}
