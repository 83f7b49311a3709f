import type { Socket } from 'node:net';

export interface ConnectionCapLimits {
  /** Open connections at most. */
  readonly maxConnections: number;
  /**
   * Requests a connection may send ahead of reading the answers (HTTP pipelining): probes and Prometheus never
   * pipeline, so a connection beyond this is closed rather than served.
   */
  readonly maxPipelined: number;
  /** Answer bytes a connection may leave unread in our buffers; beyond it the connection is closed. */
  readonly maxUnreadBytes: number;
  /** A connection that has unread answers and takes none of them for this long is closed (ms). */
  readonly stallMs: number;
}

interface Tracked {
  /** Requests in progress (answer not finished). */
  requests: number;
  /** Consecutive requests that arrived before the previous answers were taken. */
  pipelined: number;
  lastBytesRead: number;
  /** When the socket last had nothing unread, or last took some of it (ms, monotonic). */
  progressAt: number;
  lastBytesWritten: number;
}

/** Why a connection was closed by the cap. */
export type EvictionReason = 'idle' | 'pipelined' | 'unread' | 'stalled';

/**
 * At most `maxConnections` open connections, and none of them allowed to hold the server hostage: a connection that
 * pipelines requests without reading the answers (`maxPipelined`), leaves more than `maxUnreadBytes` unread, or takes
 * nothing for `stallMs` is closed. When a new connection would exceed the cap, the oldest connection with no request
 * in progress is closed to make room, else the one that has left most unread; only when every connection is busy
 * and reading is the newcomer refused. So a probe always finds room while attackers' connections come and go.
 * (`server.maxConnections` would instead refuse the newcomer: idle or non-reading sockets could lock probes out.)
 */
export class ConnectionCap {
  readonly #limits: ConnectionCapLimits;
  readonly #now: () => number;
  /** Insertion order = age order. */
  readonly #open = new Map<Socket, Tracked>();
  /** Connections closed, by reason, and refused because every connection was busy. */
  readonly evictedBy: Record<EvictionReason, number> = { idle: 0, pipelined: 0, unread: 0, stalled: 0 };
  refused = 0;

  constructor(limits: ConnectionCapLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#open.size;
  }

  get evicted(): number {
    const e = this.evictedBy;
    return e.idle + e.pipelined + e.unread + e.stalled;
  }

  /** Call on the server's 'connection' event. */
  admit(socket: Socket): void {
    if (this.#open.size >= this.#limits.maxConnections) {
      const victim = this.#oldestIdle() ?? this.#mostUnread();
      if (victim === undefined) {
        this.refused++;
        socket.destroy();
        return;
      }
      this.#evict(victim.socket, victim.reason);
    }
    this.#open.set(socket, { requests: 0, pipelined: 0, lastBytesRead: -1, progressAt: this.#now(), lastBytesWritten: 0 });
    socket.once('close', () => this.#open.delete(socket));
  }

  /**
   * A request arrived on the socket: it is busy until `done`. False when the socket was closed instead (too many
   * requests ahead of the answers): then the request must not be served.
   */
  request(socket: Socket): boolean {
    const t = this.#open.get(socket);
    if (t === undefined || socket.destroyed) return false;
    // Parsed from the same bytes as the previous one, or sent before the previous answers were taken: pipelined.
    const ahead = socket.bytesRead === t.lastBytesRead || t.requests > 0 || socket.writableLength > 0;
    t.pipelined = ahead ? t.pipelined + 1 : 0;
    t.lastBytesRead = socket.bytesRead;
    t.requests++;
    if (t.pipelined > this.#limits.maxPipelined) {
      this.#evict(socket, 'pipelined');
      return false;
    }
    return true;
  }

  /** The answer to a request on the socket was handed to it (finished or abandoned). */
  done(socket: Socket): void {
    const t = this.#open.get(socket);
    if (t === undefined) return;
    if (t.requests > 0) t.requests--;
    if (socket.writableLength > this.#limits.maxUnreadBytes) this.#evict(socket, 'unread');
  }

  /** Closes the connections that have taken none of their unread answers for `stallMs`; call every second or so. */
  sweep(): void {
    const now = this.#now();
    for (const [socket, t] of this.#open) {
      if (socket.writableLength === 0 || socket.bytesWritten !== t.lastBytesWritten) {
        t.progressAt = now;
        t.lastBytesWritten = socket.bytesWritten;
      } else if (now - t.progressAt >= this.#limits.stallMs) {
        this.#evict(socket, 'stalled');
      }
    }
  }

  #evict(socket: Socket, reason: EvictionReason): void {
    this.evictedBy[reason]++;
    this.#open.delete(socket);
    withoutStackTraces(socket);
    socket.destroy();
  }

  #oldestIdle(): { socket: Socket; reason: EvictionReason } | undefined {
    for (const [socket, t] of this.#open) if (t.requests === 0 && socket.writableLength === 0) return { socket, reason: 'idle' };
    return undefined;
  }

  #mostUnread(): { socket: Socket; reason: EvictionReason } | undefined {
    let victim: Socket | undefined;
    for (const [socket, t] of this.#open) {
      if (socket.writableLength === 0 && t.requests === 0) continue;
      if (socket.writableLength > 0 && (victim === undefined || socket.writableLength > victim.writableLength)) victim = socket;
    }
    return victim === undefined ? undefined : { socket: victim, reason: 'unread' };
  }
}

/**
 * When a connection closes, Node aborts each request still waiting on it with a new ConnResetException: a client
 * that pipelined 100 requests costs 100 stack traces (measured: 12 µs each, 0.8 s of CPU in a 9 s attack of 70
 * connections a second, in bursts that delayed probes by 300–400 ms). Nobody reads those errors, so while Node's
 * own 'close' listener runs (synchronously, between the two listeners added here) they are made without a stack.
 */
function withoutStackTraces(socket: Socket): void {
  let limit: number | undefined;
  socket.prependOnceListener('close', () => {
    limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  socket.once('close', () => {
    if (limit !== undefined) Error.stackTraceLimit = limit;
  });
}
