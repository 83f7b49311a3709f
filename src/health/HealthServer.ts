import { timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayMetrics } from './GatewayMetrics.ts';
import type { GatewayView } from './GatewayView.ts';
import { readiness } from './readiness.ts';
import { statusReport } from './statusReport.ts';

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** Required as `Authorization: Bearer <token>` for /status and /metrics; '' = open. */
  readonly token?: string;
  readonly view: GatewayView;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/**
 * `node:http` on loopback by default: `/healthz` (liveness), `/readyz` (readiness with the reasons),
 * `/metrics` (Prometheus text), `/status` (JSON). GET and HEAD only; request bodies are never read; tight
 * timeouts and a connection cap so a slow or hostile client cannot hold the gateway's sockets.
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  #server: Server | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
  }

  /** The bound port (useful with port 0 in tests). */
  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = http.createServer({ requestTimeout: 5000, headersTimeout: 3000, keepAliveTimeout: 5000, maxHeaderSize: 8192 }, (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#options.logger.error({ err: String(error) }, 'health server error');
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
        else res.destroy();
      });
    });
    server.maxConnections = 64;
    server.maxRequestsPerSocket = 100;
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#options.logger.info({ host: this.#options.host, port: this.port }, 'health server listening');
  }

  /** Constant-time comparison: the answer time says nothing about how much of a guess was right. */
  #authorised(req: IncomingMessage): boolean {
    const token = this.#options.token ?? '';
    if (token === '') return true;
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '', 'utf8');
    const expected = Buffer.from(token, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The body, if any, is never read: drop it so the socket can be reused or closed.
    req.resume();
    const path = (req.url ?? '/').split('?', 1)[0];
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics' || path === '/status';
    if (!known) return send(res, 404, 'application/json', '{"error":"not found"}\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'application/json', '{"error":"method not allowed"}\n');
    }
    const { view, metrics } = this.#options;
    if ((path === '/metrics' || path === '/status') && !this.#authorised(req)) {
      res.setHeader('www-authenticate', 'Bearer');
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
        const text = await metrics.registry.metrics();
        return send(res, 200, metrics.registry.contentType, text);
      }
      default:
        return send(res, 200, 'application/json', JSON.stringify(statusReport(view)) + '\n');
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
