import type { Socket } from 'node:net';

/**
 * At most `max` open connections. When a new one would exceed the cap, the oldest connection with no request in
 * progress is closed to make room (an idle keep-alive, or a slowloris still sending its headers); only when every
 * connection is busy answering is the new one refused. `server.maxConnections` would instead refuse the newcomer,
 * so a client holding `max` idle sockets could lock the probes out until the header timeout freed them.
 */
export class ConnectionCap {
  readonly #max: number;
  /** Insertion order = age order; the value is the number of requests in progress on the socket. */
  readonly #open = new Map<Socket, number>();
  /** Connections closed to make room, and refused because every connection was busy. */
  evicted = 0;
  refused = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Call on the server's 'connection' event. */
  admit(socket: Socket): void {
    if (this.#open.size >= this.#max) {
      const idle = this.#oldestIdle();
      if (idle === undefined) {
        this.refused++;
        socket.destroy();
        return;
      }
      this.evicted++;
      this.#open.delete(idle);
      idle.destroy();
    }
    this.#open.set(socket, 0);
    socket.once('close', () => this.#open.delete(socket));
  }

  /** A request arrived on the socket: it is busy until `done`. */
  busy(socket: Socket): void {
    const n = this.#open.get(socket);
    if (n !== undefined) this.#open.set(socket, n + 1);
  }

  done(socket: Socket): void {
    const n = this.#open.get(socket);
    if (n !== undefined && n > 0) this.#open.set(socket, n - 1);
  }

  #oldestIdle(): Socket | undefined {
    for (const [socket, requests] of this.#open) if (requests === 0) return socket;
    return undefined;
  }
}
