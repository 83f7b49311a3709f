import tls, { type ConnectionOptions } from 'node:tls';

/** How long one probe handshake may take. */
const PROBE_TIMEOUT_MS = 3000;
/** At most one probe per this long while the Sentinels stay unreachable. */
const PROBE_INTERVAL_MS = 30_000;

type Endpoint = { readonly host?: string; readonly port?: number };

/**
 * ioredis's Sentinel connector swallows why it could not reach a Sentinel ("All sentinels are unreachable … Last
 * error: Connection is closed."): for a TLS problem that leaves an operator nothing to act on. While that error
 * repeats, this makes one TLS handshake per Sentinel with the options ioredis uses (at most every 30 s) and, when
 * they all fail, hands the handshake's own error back in its place — which the sink then describes ("TLS: server
 * certificate not accepted …; check sinks.redis.tls.caFile") in its log, /readyz and /status.
 */
export class SentinelTlsDiagnosis {
  readonly #sentinels: readonly Endpoint[];
  readonly #options: ConnectionOptions;
  readonly #onFound: (cause: Error) => void;
  readonly #now: () => number;
  #cause: Error | undefined;
  #probing = false;
  #lastProbe = -Infinity;

  constructor(options: { sentinels: readonly Endpoint[]; tls: ConnectionOptions; onFound: (cause: Error) => void; now?: () => number }) {
    this.#sentinels = options.sentinels;
    this.#options = options.tls;
    this.#onFound = options.onFound;
    this.#now = options.now ?? Date.now;
  }

  /** The error to report for `error`: the handshake's when one was found, else `error` itself (probing if due). */
  explain(error: Error): Error {
    if (!error.message.startsWith('All sentinels are unreachable')) return error;
    if (!this.#probing && this.#now() - this.#lastProbe >= PROBE_INTERVAL_MS) void this.#probe();
    return this.#cause ?? error;
  }

  /** Connected: whatever was found no longer holds. */
  reset(): void {
    this.#cause = undefined;
    this.#lastProbe = -Infinity;
  }

  async #probe(): Promise<void> {
    this.#probing = true;
    this.#lastProbe = this.#now();
    try {
      let first: Error | undefined;
      for (const s of this.#sentinels) {
        const error = await handshake(s.host ?? '127.0.0.1', s.port ?? 26379, this.#options);
        if (error === undefined) {
          this.#cause = undefined; // TLS is fine with one of them: the problem is elsewhere
          return;
        }
        first ??= error;
      }
      this.#cause = first;
      if (first !== undefined) this.#onFound(first);
    } finally {
      this.#probing = false;
    }
  }
}

function handshake(host: string, port: number, options: ConnectionOptions): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ ...options, host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (error?: Error): void => {
      socket.destroy();
      resolve(error);
    };
    socket.once('secureConnect', () => done());
    socket.once('error', (error) => done(error));
    socket.once('timeout', () =>
      done(Object.assign(new Error(`TLS handshake with ${host}:${port} timed out`), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })),
    );
  });
}
