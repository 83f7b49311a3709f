import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TokenProxyOptions {
  /** Where accepted requests go, e.g. VictoriaMetrics's http://127.0.0.1:PORT. */
  readonly target: string;
  /** Requests must carry `Authorization: Token <token>`, as the InfluxDB v2 API expects. */
  readonly token: string;
  /** PEM server certificate and key files (see certificates.ts). */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TokenProxy {
  readonly port: number;
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** Requests passed on to the target. */
  readonly accepted: number;
  /** Requests answered 401 (missing or wrong token). */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * An HTTPS front for VictoriaMetrics that does what VictoriaMetrics does not: it checks the InfluxDB token
 * (VictoriaMetrics ignores the Authorization header; its -httpAuth.* flags only know Basic auth). A wrong or
 * missing token gets InfluxDB's 401 answer; a right one is proxied, body and headers (gzip included) unchanged.
 */
export async function startTokenProxy(options: TokenProxyOptions): Promise<TokenProxy> {
  const target = new URL(options.target);
  let accepted = 0;
  let refused = 0;
  const server = https.createServer({ cert: fs.readFileSync(options.certFile), key: fs.readFileSync(options.keyFile) }, (req, res) => {
    if (req.headers.authorization !== `Token ${options.token}`) {
      refused++;
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'unauthorized', message: 'unauthorized access' }));
      return;
    }
    accepted++;
    const { authorization: _dropped, host: _host, ...headers } = req.headers;
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(upstream);
  });
  // Handshakes the client aborts (wrong CA) are expected here; they must not crash the test process.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
