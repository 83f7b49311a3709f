import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';
import { waitFor } from './waitFor.ts';

/** One scripted answer. VictoriaMetrics never rejects lines, so 4xx/5xx/timeouts are tested against this server. */
export interface ScriptedResponse {
  status: number;
  /** e.g. { 'retry-after': '2' } */
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (use more than the client's timeout to test timeouts). */
  delayMs?: number;
  /** Reset the connection instead of answering (a network failure). */
  destroy?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  contentEncoding: string | undefined;
  /** The body as received (compressed when it was sent compressed). */
  rawBody: Buffer;
  /** The decoded body: gunzipped when content-encoding is gzip. */
  body: string;
  /** Non-empty lines of `body` (line protocol). */
  lines: string[];
  /** Set when a gzip body could not be decoded (the server then answers 400). */
  decodeError?: string;
  receivedAt: number;
  /** What the server answered (or was told to answer). */
  response: ScriptedResponse;
}

export interface FaultyHttpOptions {
  /** Fixed port (e.g. to come back on the same port after close()). Default: any free port. */
  port?: number;
  /** Answer once the queue is empty. Default 204 (what a healthy InfluxDB answers). */
  defaultResponse?: ScriptedResponse;
  /** The scripted path; other paths get 404 (and are recorded). Default /api/v2/write. */
  path?: string;
  /**
   * Answers by content, before the queue: e.g. 400 for a body holding a marker line (what InfluxDB does with a
   * line it cannot parse). undefined = fall through to the queue and the default.
   */
  judge?: (lines: string[]) => ScriptedResponse | undefined;
}

export interface FaultyHttpServer {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests to the scripted path only. */
  writeRequests(): RecordedRequest[];
  /** Queue answers for the next requests to the scripted path, in order. */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Answers still queued. */
  readonly queued: number;
  /** Change the answer used once the queue is empty. */
  setDefault(response: ScriptedResponse): void;
  /** Wait until at least n requests to the scripted path arrived; returns them. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Forget recorded requests and queued answers. */
  reset(): void;
  close(): Promise<void>;
}

function decodeBody(raw: Buffer, encoding: string | undefined): { body: string; error?: string } {
  const enc = (encoding ?? '').trim().toLowerCase();
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return { body: zlib.gunzipSync(raw).toString('utf8') };
    if (enc === 'deflate') return { body: zlib.inflateSync(raw).toString('utf8') };
    if (enc === 'br') return { body: zlib.brotliDecompressSync(raw).toString('utf8') };
    return { body: raw.toString('utf8') };
  } catch (err) {
    return { body: '', error: (err as Error).message };
  }
}

/** A tiny HTTP server that answers /api/v2/write as scripted and records every request. */
export async function startFaultyHttp(opts: FaultyHttpOptions = {}): Promise<FaultyHttpServer> {
  const scriptedPath = opts.path ?? '/api/v2/write';
  let defaultResponse: ScriptedResponse = opts.defaultResponse ?? { status: 204 };
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const contentEncoding = req.headers['content-encoding'];
      const decoded = decodeBody(rawBody, contentEncoding);
      let response: ScriptedResponse;
      if (url.pathname !== scriptedPath) response = { status: 404, body: 'not found' };
      else if (decoded.error !== undefined) response = { status: 400, body: `bad body: ${decoded.error}` };
      else response = opts.judge?.(decoded.body.split('\n').filter((l) => l.trim().length > 0)) ?? queue.shift() ?? defaultResponse;
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        contentEncoding,
        rawBody,
        body: decoded.body,
        lines: decoded.body.split('\n').filter((l) => l.trim().length > 0),
        receivedAt: Date.now(),
        response,
      };
      if (decoded.error !== undefined) record.decodeError = decoded.error;
      requests.push(record);

      const answer = () => {
        if (response.destroy) {
          req.socket.destroy();
          return;
        }
        if (res.destroyed || req.socket.destroyed) return; // the client gave up (timeout)
        const body = response.body ?? '';
        res.writeHead(response.status, {
          ...(body.length > 0 ? { 'content-type': 'application/json; charset=utf-8' } : {}),
          ...response.headers,
        });
        res.end(body);
      };
      if (response.delayMs !== undefined && response.delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, response.delayMs);
        timers.add(timer);
      } else {
        answer();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port ?? 0, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('faultyHttp: no address');
  const port = address.port;
  const writeRequests = () => requests.filter((r) => r.path === scriptedPath);

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    writeRequests,
    enqueue: (...responses) => {
      queue.push(...responses);
    },
    get queued() {
      return queue.length;
    },
    setDefault: (response) => {
      defaultResponse = response;
    },
    waitForRequests: (n, timeoutMs = 10_000) =>
      waitFor(() => (writeRequests().length >= n ? writeRequests() : undefined), {
        timeoutMs,
        intervalMs: 10,
        message: () => `faultyHttp: expected ${n} requests to ${scriptedPath}, got ${writeRequests().length}`,
      }),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
