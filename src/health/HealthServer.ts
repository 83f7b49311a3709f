import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { ConnectionCap } from './ConnectionCap.ts';
import type { GatewayMetrics } from './GatewayMetrics.ts';
import type { GatewayView } from './GatewayView.ts';
import { readiness } from './readiness.ts';
import { statusReport } from './statusReport.ts';
import { STATUS_PAGE } from './statusPage.ts';
import { LINGER_MS, refuse, send } from './send.ts';
import { readBody, routeTestMessage } from './routeTestMessage.ts';
import type { Explanation, MessageProperties } from '../explain/MessageExplainer.ts';

// Required, not imported: an ES import of node:http reads all its exports, loading undici (13.7 MB RSS) for the
// lazy WebSocket/fetch-related ones (see src/sinks/influx/influxClient.ts).
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** Required as `Authorization: Bearer <token>` for /status and /metrics; '' = open. */
  readonly token?: string;
  readonly view: GatewayView;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Exposure limits; the defaults suit a probe or a scraper on a plant network. Tests shorten the timeouts. */
  readonly limits?: Partial<HealthLimits>;
  /** The status page's route tester (`POST /route-test`): what the routes make of a message, nothing written. */
  readonly tryRoute?: (topic: string, payload: Buffer, properties: MessageProperties | undefined) => Explanation;
  /** `POST /reload` (only with a token): reloads the configuration, as SIGHUP does; absent: no such endpoint. */
  readonly reload?: () => Promise<{ readonly result: string; readonly message: string }>;
}

/** A route-test request body at most (topic, payload, properties as JSON); beyond it 413 and the connection closes. */
export const ROUTE_TEST_MAX_BYTES = 64 * 1024;

export interface HealthLimits {
  /** Whole request head (request line + headers) must arrive within this; also closes connections that send nothing. */
  readonly headersTimeoutMs: number;
  /** Whole request must arrive within this. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above (its default, 30 s, would let a slowloris stay 10× longer). */
  readonly checkIntervalMs: number;
  /** Open connections; beyond it the oldest idle one is closed (see ConnectionCap). */
  readonly maxConnections: number;
  /** Requests a connection may send before reading the answers; beyond it the connection is closed. */
  readonly maxPipelined: number;
  /** Answer bytes a connection may leave unread; beyond it the connection is closed. */
  readonly maxUnreadBytes: number;
  /** A connection with unread answers that takes none of them for this long is closed. */
  readonly stallMs: number;
  /** A `/metrics` text is reused this long (ms), and scrapes arriving while it renders share the rendering. */
  readonly metricsCacheMs: number;
  /** Request line + headers, bytes (Node answers 431 beyond it). */
  readonly maxHeaderBytes: number;
  /** The URL (path + query); ours are a few bytes long. */
  readonly maxUrlBytes: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = {
  headersTimeoutMs: 3000,
  requestTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  checkIntervalMs: 1000,
  maxConnections: 64,
  maxPipelined: 4,
  maxUnreadBytes: 256 * 1024,
  stallMs: 2000,
  metricsCacheMs: 1000,
  maxHeaderBytes: 8192,
  maxUrlBytes: 1024,
};

/**
 * `node:http` on loopback by default: `/healthz` (liveness), `/readyz` (readiness with the reasons),
 * `/metrics` (Prometheus text), `/status` (JSON), `/` (the status page). GET and HEAD only, but for the page's
 * `POST /route-test`, the one request whose body is read (JSON, capped at ROUTE_TEST_MAX_BYTES). Exposure limits
 * (HealthLimits): tight header/request/idle timeouts, a connection cap that evicts idle connections first, bounded URL and headers, and
 * other request bodies are never read: a request announcing one gets 413 and its connection is closed.
 * A client that pipelines requests and never reads the answers (measured before: 70 such connections made /healthz
 * fail nearly every probe and RSS grow by 170 MB) is closed by the cap, and `/metrics` is rendered at most once per
 * metricsCacheMs, so the attack's cost does not grow with its request count.
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #limits: HealthLimits;
  readonly #cap: ConnectionCap;
  #server: Server | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #metrics: { readonly text: Promise<string>; readonly at: number } | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_HEALTH_LIMITS, ...options.limits };
    this.#cap = new ConnectionCap(this.#limits);
  }

  /** Connections closed or refused by the cap (for tests and diagnostics). */
  get connectionCap(): { open: number; evicted: number; refused: number; evictedBy: Record<string, number> } {
    return { open: this.#cap.size, evicted: this.#cap.evicted, refused: this.#cap.refused, evictedBy: { ...this.#cap.evictedBy } };
  }

  /** The bound port (useful with port 0 in tests). */
  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const l = this.#limits;
    const server = http.createServer(
      {
        requestTimeout: l.requestTimeoutMs,
        headersTimeout: l.headersTimeoutMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
        connectionsCheckingInterval: l.checkIntervalMs,
        maxHeaderSize: l.maxHeaderBytes,
      },
      (req, res) => {
        const socket = req.socket;
        if (!this.#cap.request(socket)) return; // closed: too many requests ahead of their answers
        res.once('close', () => this.#cap.done(socket));
        this.#handle(req, res).catch((error: unknown) => {
          this.#options.logger.error({ err: String(error) }, 'health server error');
          if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
          else res.destroy();
        });
      },
    );
    server.maxHeadersCount = 64;
    server.maxRequestsPerSocket = 100;
    server.on('connection', (socket: Socket) => this.#cap.admit(socket));
    // Malformed request, oversized head, timeout: a short answer without echoing anything, then close.
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
      const status =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#sweep = setInterval(() => this.#cap.sweep(), Math.min(l.checkIntervalMs, l.stallMs));
    this.#sweep.unref();
    this.#options.logger.info({ host: this.#options.host, port: this.port }, 'health server listening');
  }

  /** Constant-time comparison: the answer time says nothing about how much of a guess was right. */
  #authorised(req: IncomingMessage): boolean {
    const token = this.#options.token ?? '';
    if (token === '') return true;
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` and `Bearer` are the same.
    const header = req.headers.authorization ?? '';
    const match = /^bearer +(.*)$/i.exec(header);
    // A browser opening the status page sends Basic (any user name, the token as password) on every request.
    const basic = match === null ? /^basic +([A-Za-z0-9+/=]*)$/i.exec(header) : null;
    const password = basic === null ? undefined : /^[^:]*:(.*)$/s.exec(Buffer.from(basic[1]!, 'base64').toString('utf8'))?.[1];
    const given = Buffer.from(match?.[1] ?? password ?? '', 'utf8');
    const expected = Buffer.from(token, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    clearInterval(this.#sweep);
    server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** One rendering per metricsCacheMs, shared by every scrape in between (a failed one is not kept). */
  #metricsText(): Promise<string> {
    const now = performance.now();
    const cached = this.#metrics;
    if (cached !== undefined && now - cached.at < this.#limits.metricsCacheMs) return cached.text;
    const text = this.#options.metrics.registry.metrics();
    const entry = { text, at: now };
    this.#metrics = entry;
    text.catch(() => {
      if (this.#metrics === entry) this.#metrics = undefined;
    });
    return text;
  }

  async #reload(req: IncomingMessage, res: ServerResponse, hasBody: boolean): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return hasBody ? refuse(res, 405, 'method not allowed') : send(res, 405, 'application/json', '{"error":"method not allowed"}\n');
    }
    if (hasBody) return refuse(res, 413, 'request bodies are not accepted');
    if (!this.#options.token) return send(res, 403, 'application/json', '{"error":"POST /reload needs http.token to be set"}\n');
    if (!this.#authorised(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, 'application/json', '{"error":"unauthorized"}\n');
    }
    return answerReload(this.#options.reload!, res);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url.length > this.#limits.maxUrlBytes) return refuse(res, 414, 'uri too long');
    // A body is never read: the answer closes the connection rather than drain what the client sends.
    const length = req.headers['content-length'];
    const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    const path = url.split('?', 1)[0];
    if (path === '/route-test') return this.#routeTest(req, res, hasBody);
    if (path === '/reload' && this.#options.reload !== undefined) return this.#reload(req, res, hasBody);
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics' || path === '/status' || path === '/';
    if (!known) return hasBody ? refuse(res, 404, 'not found') : send(res, 404, 'application/json', '{"error":"not found"}\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return hasBody ? refuse(res, 405, 'method not allowed') : send(res, 405, 'application/json', '{"error":"method not allowed"}\n');
    }
    if (hasBody) return refuse(res, 413, 'request bodies are not accepted');
    const { view, metrics } = this.#options;
    if ((path === '/metrics' || path === '/status' || path === '/') && !this.#authorised(req)) {
      // The page: a browser asks for the token (as the password) and then sends it with every request.
      res.setHeader('www-authenticate', path === '/' ? 'Basic realm="edgebridge", charset="UTF-8"' : 'Bearer');
      return send(res, 401, 'application/json', '{"error":"unauthorized"}\n');
    }
    switch (path) {
      case '/healthz': {
        // Answering at all proves the event loop turns; during shutdown the process is on its way out.
        const alive = !view.shuttingDown();
        return send(res, alive ? 200 : 503, 'application/json', JSON.stringify({ alive }) + '\n');
      }
      case '/readyz': {
        const r = readiness(view);
        return send(res, r.ready ? 200 : 503, 'application/json', JSON.stringify(r) + '\n');
      }
      case '/metrics': {
        const text = await this.#metricsText();
        return send(res, 200, metrics.registry.contentType, text);
      }
      case '/':
        res.setHeader('content-security-policy', STATUS_PAGE.csp);
        res.setHeader('referrer-policy', 'no-referrer');
        return send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE.html);
      default:
        return send(res, 200, 'application/json', JSON.stringify(statusReport(view)) + '\n');
    }
  }

  /**
   * `POST /route-test` `{"topic", "payload", "properties"?}` (JSON, at most ROUTE_TEST_MAX_BYTES) → the explanation
   * of that message. The one request body this server reads: behind the token, size-capped, JSON only (a form on
   * another site cannot send that content type without a CORS preflight, which is never answered).
   */
  async #routeTest(req: IncomingMessage, res: ServerResponse, hasBody: boolean): Promise<void> {
    const tryRoute = this.#options.tryRoute;
    if (tryRoute === undefined)
      return hasBody ? refuse(res, 404, 'not found') : send(res, 404, 'application/json', '{"error":"not found"}\n');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return hasBody ? refuse(res, 405, 'method not allowed') : send(res, 405, 'application/json', '{"error":"method not allowed"}\n');
    }
    if (!this.#authorised(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return refuse(res, 401, 'unauthorized');
    }
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return refuse(res, 415, 'send application/json');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > ROUTE_TEST_MAX_BYTES) return refuse(res, 413, `request body over ${ROUTE_TEST_MAX_BYTES} bytes`);
    const body = await readBody(req, ROUTE_TEST_MAX_BYTES);
    if (body === undefined) return refuse(res, 413, `request body over ${ROUTE_TEST_MAX_BYTES} bytes`);
    let message: { topic: string; payload: Buffer; properties: MessageProperties | undefined };
    try {
      message = routeTestMessage(JSON.parse(body.toString('utf8')));
    } catch (error) {
      return send(res, 400, 'application/json', JSON.stringify({ error: (error as Error).message }) + '\n');
    }
    const explanation = tryRoute(message.topic, message.payload, message.properties);
    return send(res, 200, 'application/json', JSON.stringify(explanation) + '\n');
  }
}

/**
 * `POST /reload`: the one request that changes something, so it needs `http.token` set and sent (with no token
 * configured it is refused, 403: an open endpoint must not reconfigure the gateway). 200 with the outcome when the
 * reload was applied or changed nothing, 409 when it was refused or failed (the outcome says why).
 */
async function answerReload(
  reload: () => Promise<{ readonly result: string; readonly message: string }>,
  res: ServerResponse,
): Promise<void> {
  const outcome = await reload();
  const ok = outcome.result === 'applied' || outcome.result === 'unchanged';
  send(res, ok ? 200 : 409, 'application/json', JSON.stringify(outcome) + '\n');
}
