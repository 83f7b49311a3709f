import type { MqttClient } from 'mqtt';
import type { TlsFiles } from '../tls/readTlsFiles.ts';
import { renewTlsOptions } from './renewTlsOptions.ts';
import type { SourceLifecycle } from './SourceLifecycle.ts';

export interface RenewOptions {
  /** Epoch ms: connected again by then, or the renewal says false. */
  readonly deadline: number;
  readonly now: () => number;
  /** Just before the connection that is up is closed to be made again (the log line). */
  readonly onReconnect: () => void;
}

/**
 * A reload's TLS files renewed under the same paths, for one MQTT connection. The new material goes where mqtt.js
 * reads it on every connect; a connection that is up is then closed cleanly (DISCONNECT: the broker keeps the session
 * and publishes no will) and made again at once with the same client id (mqtt.js's `reconnect()`; the lifecycle's
 * `renewing` state: no reconnect delay), so a persistent session (clean=false) resumes. What the broker had sent that
 * was not acknowledged yet (a PUBACK held for the spool is never sent on a later connection) is redelivered: at least
 * once, as after any reconnect. A connection being made now finishes first (with the old material), then the same.
 * Resolves true once connected with the new material, false if not by the deadline (a connection waiting to retry
 * takes it on its next attempt).
 */
export async function renewConnection(lifecycle: SourceLifecycle, files: TlsFiles | undefined, options: RenewOptions): Promise<boolean> {
  const state = lifecycle.state;
  if (state.kind === 'idle' || state.kind === 'stopped' || state.client === undefined) return false;
  const { client } = state;
  const { deadline, now } = options;
  renewTlsOptions(client.options, files);
  if (state.kind === 'connecting' && !(await connectedBy(client, deadline, now))) return false;
  if (lifecycle.state.kind !== 'connected') return false;
  options.onReconnect();
  lifecycle.on({ kind: 'renew' });
  const connected = connectedBy(client, deadline, now);
  client.reconnect();
  const ok = await connected;
  // An acknowledgement the broker never sends would hold mqtt.js's DISCONNECT forever: close the socket instead.
  if (!ok && stillRenewing(lifecycle)) client.stream?.destroy();
  return ok;
}

/** Read afresh: the state has moved on since it was narrowed above. */
function stillRenewing(lifecycle: SourceLifecycle): boolean {
  return lifecycle.state.kind === 'renewing';
}

/** Resolves true at the client's next `connect`, false at `deadline` (epoch ms). */
function connectedBy(client: MqttClient, deadline: number, now: () => number): Promise<boolean> {
  return new Promise((resolve) => {
    const onConnect = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(
      () => {
        client.off('connect', onConnect);
        resolve(false);
      },
      Math.max(0, deadline - now()),
    );
    client.once('connect', onConnect);
  });
}
