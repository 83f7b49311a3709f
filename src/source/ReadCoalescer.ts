import type { MqttClient } from 'mqtt';

type Stream = MqttClient['stream'];

/** The part of Node's stream handle (TCPWrap, TLSWrap) that net.Socket itself uses to stop and start reading. */
interface ReadHandle {
  reading?: boolean;
  readStop(): number;
  readStart(): number;
}

export interface ReadCoalescerOptions {
  /** How long the socket is left unread after a burst, ms; 0 = never. */
  readonly windowMs: number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
}

/**
 * At a moderate rate every socket read carries a few messages, and each read costs a wake-up of the process
 * (epoll, read(2), the stream machinery, mqtt.js's per-chunk work, the burst's setImmediate, spool write(2) and
 * uncork) that is then paid per message. After a burst, `hold` leaves the socket unread for `windowMs`: what the
 * broker sends meanwhile waits in the kernel's receive buffer, and the next read brings all of it. That adds up to
 * the window's latency to a message that arrives while the socket is held. Burst decides when to hold (only after
 * a small burst of QoS 0 messages), so at high rates, where bursts are big, nothing is held.
 *
 * Stopping the kernel reads takes the handle: net.Socket's pause() only stops 'data' events and goes on reading
 * into its buffer up to the high-water mark (64 KiB), which would keep every wake-up. So this does what
 * net.Socket's own pause()/resume() do for sockets made with `onread`: `readStop()`/`readStart()` on the handle,
 * with its `reading` flag, beside the stream's pause()/resume() (which keep the stream machinery from starting the
 * reads again). A stream without such a handle (WebSocket) is only paused: its turns are still gathered.
 */
export class ReadCoalescer {
  readonly #windowMs: number;
  readonly #setTimer: (fn: () => void, ms: number) => unknown;
  /** The stream held now, if any (one at a time: a source has one connection). */
  #held: Stream | undefined;

  constructor(options: ReadCoalescerOptions) {
    this.#windowMs = options.windowMs;
    this.#setTimer = options.setTimer ?? setTimeout;
  }

  get enabled(): boolean {
    return this.#windowMs > 0;
  }

  /**
   * Leaves `stream` unread for the window (once: a stream already held stays on its timer). Called once the turn's
   * reads are handled (Burst's setImmediate), not from inside a 'data' event: the stream machinery would then
   * deliver what it buffered on release and be held again before the kernel is read.
   */
  hold(stream: Stream | undefined): void {
    if (this.#windowMs <= 0 || stream === undefined || this.#held !== undefined || stream.destroyed) return;
    this.#held = stream;
    stream.pause();
    const handle = readHandle(stream);
    let stopped = false;
    if (handle?.reading === true) {
      handle.reading = false;
      stopped = handle.readStop() === 0;
      if (!stopped) handle.reading = true;
    }
    this.#setTimer(() => this.#release(stream, stopped ? handle : undefined), this.#windowMs);
  }

  #release(stream: Stream, handle: ReadHandle | undefined): void {
    this.#held = undefined;
    if (stream.destroyed) return;
    // Not reading yet: start again (unless the stream machinery already did, or stopped it for backpressure's sake
    // after we did: its pause() path then restarts it through resume() below, as it does itself).
    if (handle !== undefined && handle.reading !== true) {
      handle.reading = true;
      if (handle.readStart() !== 0) {
        handle.reading = false;
        stream.destroy(new Error('could not read from the MQTT connection again after holding it'));
        return;
      }
    }
    stream.resume();
  }
}

function readHandle(stream: Stream): ReadHandle | undefined {
  const handle = (stream as unknown as { _handle?: Partial<ReadHandle> | null })._handle;
  if (handle == null || typeof handle.readStop !== 'function' || typeof handle.readStart !== 'function') return undefined;
  return handle as ReadHandle;
}
