import type { ServerResponse } from 'node:http';

/** After an error answer with `connection: close`, how long the client gets to read it before the socket is destroyed. */
export const LINGER_MS = 1000;

/** An error answer that ends the connection (what is left of the request is not read). */
export function refuse(res: ServerResponse, status: number, error: string): void {
  res.setHeader('connection', 'close');
  res.once('finish', () => {
    const socket = res.req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
  send(res, status, 'application/json', JSON.stringify({ error }) + '\n');
}

/** An answer with the headers every answer carries (never cached, never sniffed); a HEAD request gets no body. */
export function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
