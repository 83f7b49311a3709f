import type { SessionMarker, SessionRecord } from './SessionMarker.ts';
import type { SessionLoss } from '../stats/SourceStats.ts';

/** Whether the broker should hold a session for this gateway now. Changed only by SessionWatch's methods. */
export type SessionExpectation =
  /** None: a new installation, a clean session, another client id or broker, or the last session was lost. */
  | { readonly kind: 'none' }
  /** The marker of an earlier run says the broker granted this client id's subscriptions. */
  | { readonly kind: 'earlier run'; readonly record: SessionRecord }
  /** This process saw the session: a granted subscribe or sessionPresent. `closedAt`: the connection is down since. */
  | { readonly kind: 'this process'; readonly closedAt: number | undefined };

export interface SessionWatchOptions {
  readonly clientId: string;
  /** The broker URL without credentials: a session at another broker is not this one's to lose. */
  readonly broker: string;
  readonly clean: boolean;
  readonly protocolVersion: number;
  readonly sessionExpirySec: number;
  /** Where the expectation survives restarts (next to the spool); undefined: only within the process. */
  readonly marker?: SessionMarker | undefined;
  readonly now?: () => number;
}

/**
 * Catches a broker that forgot the gateway's persistent session (persistence off or not writable: a restart
 * empties it, issue 16). The gateway asked for a session that outlives the connection; if one should exist — this
 * process had it, or an earlier run did (the marker) with the same client id at the same broker — and the CONNACK
 * says `sessionPresent: false`, that is a loss. The first connect of a new installation, a clean session, an MQTT 5
 * session expiry of 0 and a changed client id or broker are not.
 */
export class SessionWatch {
  readonly #options: SessionWatchOptions;
  readonly #now: () => number;
  readonly #persistent: boolean;
  #expect: SessionExpectation = { kind: 'none' };
  #written = false;

  constructor(options: SessionWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#persistent = !options.clean && !(options.protocolVersion === 5 && options.sessionExpirySec === 0);
  }

  get expectation(): SessionExpectation {
    return this.#expect;
  }

  /** Reads the marker of an earlier run (once, before the first connect). */
  start(): void {
    const record = this.#options.marker?.read();
    const { clientId, broker } = this.#options;
    if (record?.persistent && this.#persistent && record.clientId === clientId && record.broker === broker) {
      this.#expect = { kind: 'earlier run', record };
    }
  }

  /** A CONNACK: returns the loss it reveals, if any. */
  connected(sessionPresent: boolean): SessionLoss | undefined {
    const was = this.#expect;
    if (!this.#persistent) return undefined;
    if (sessionPresent) {
      this.#expect = { kind: 'this process', closedAt: undefined };
      return undefined;
    }
    // A session starts now, but it holds no subscription until the broker grants one (subscribed()).
    this.#expect = { kind: 'none' };
    if (was.kind === 'none') return undefined;
    const awayMs = was.kind === 'this process' && was.closedAt !== undefined ? this.#now() - was.closedAt : undefined;
    const { protocolVersion, sessionExpirySec } = this.#options;
    const expired = protocolVersion === 5 && awayMs !== undefined && awayMs > sessionExpirySec * 1000;
    return { reason: expired ? 'expired' : 'lost', knownFrom: was.kind, awayMs };
  }

  /** The connection closed (also a failed attempt: the first close after a connect is when the gateway left). */
  closed(): void {
    if (this.#expect.kind === 'this process' && this.#expect.closedAt === undefined) {
      this.#expect = { kind: 'this process', closedAt: this.#now() };
    }
  }

  /**
   * The broker granted a subscription: it holds the session now. The first time in this process the marker is
   * written (also for a clean session, so that an older persistent marker is not compared with later); the returned
   * promise is that write.
   */
  subscribed(): Promise<void> | undefined {
    if (this.#persistent) this.#expect = { kind: 'this process', closedAt: undefined };
    if (this.#written) return undefined;
    this.#written = true;
    const { clientId, broker, marker } = this.#options;
    return marker?.write({ clientId, broker, persistent: this.#persistent, subscribedAt: new Date(this.#now()).toISOString() });
  }
}
