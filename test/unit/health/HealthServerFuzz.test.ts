import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { HealthServer } from '../../../src/health/HealthServer.ts';
import { GatewayMetrics } from '../../../src/health/GatewayMetrics.ts';
import type { GatewayView } from '../../../src/health/GatewayView.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';
import { waitFor } from '../../harness/waitFor.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

/**
 * Hostile clients on real sockets: malformed request lines, huge heads, slowloris, idle-connection floods, bodies,
 * binary garbage, pipelining. After each, /healthz must still answer on a fresh connection (a generous bound, not
 * a timing assertion). Timeouts are shortened so the test is quick; the defaults are the same code with larger numbers.
 */
describe('HealthServer under hostile clients', () => {
  const view: GatewayView = {
    gatewayId: 'gw',
    version: '1.0.0',
    startedAt: Date.now(),
    source: new SourceStats(),
    sinks: [],
    spool: () => ({ type: 'memory', entries: 0, bytes: 0, maxBytes: 1000, full: false }),
    shuttingDown: () => false,
  };
  const server = new HealthServer({
    host: '127.0.0.1',
    port: 0,
    token: 'fuzz-token',
    view,
    metrics: new GatewayMetrics(view),
    logger: memoryLogger().logger,
    limits: { headersTimeoutMs: 600, requestTimeoutMs: 1200, keepAliveTimeoutMs: 600, checkIntervalMs: 100, maxConnections: 16 },
  });
  const open: net.Socket[] = [];

  before(() => server.start());
  after(async () => {
    for (const s of open) s.destroy();
    await server.stop();
  });

  /** A fresh connection, one GET /healthz; resolves with the status line, rejects after 5 s. */
  async function healthz(): Promise<string> {
    const text = await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 5000);
    const line = text.split('\r\n', 1)[0]!;
    assert.equal(line, 'HTTP/1.1 200 OK', `healthz answered: ${JSON.stringify(text.slice(0, 200))}`);
    return line;
  }

  /** Writes `data`, collects everything until the server closes (or `timeoutMs`, then rejects). */
  function exchange(data: string | Buffer, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = net.connect(server.port, '127.0.0.1', () => s.write(data));
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
      }, timeoutMs);
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => {}); // a reset after the answer is fine: the close event follows
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('latin1'));
      });
    });
  }

  function hold(): net.Socket {
    const s = net.connect(server.port, '127.0.0.1');
    s.on('error', () => {});
    s.resume(); // read, so the server's close is noticed
    open.push(s);
    return s;
  }

  it('malformed request lines get 400 (or a close), never a crash', async () => {
    const lines = [
      'GARBAGE\r\n\r\n',
      'GET\r\n\r\n',
      'GET /healthz HTTP/9.9\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      'GET /he\x00althz HTTP/1.1\r\n\r\n',
      'GET /healthz\rHTTP/1.1\r\n\r\n',
      '\r\n\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: a\r\n Folded: yes\r\n\r\n',
      'BREW /pot HTCPCP/1.0\r\n\r\n',
    ];
    for (const line of lines) {
      const answer = await exchange(line);
      assert.match(answer, /^(HTTP\/1\.1 (400|404|405|408|413) |$)/, `${JSON.stringify(line)} → ${JSON.stringify(answer.slice(0, 80))}`);
      await healthz();
    }
  });

  it('a huge header block gets 431, a huge URL 431/414, and the server keeps answering', async () => {
    const big = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'a'.repeat(100_000) + '\r\n\r\n';
    assert.match(await exchange(big), /^HTTP\/1\.1 431 /);
    const manyHeaders = 'GET /healthz HTTP/1.1\r\n' + Array.from({ length: 2000 }, (_, i) => `X-${i}: y`).join('\r\n') + '\r\n\r\n';
    assert.match(await exchange(manyHeaders), /^HTTP\/1\.1 431 /);
    assert.match(await exchange(`GET /healthz?${'q'.repeat(20_000)} HTTP/1.1\r\n\r\n`), /^HTTP\/1\.1 431 /);
    assert.match(await exchange(`GET /healthz?${'q'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 414 /);
    await healthz();
  });

  it('slowloris: a head trickling in is cut off by the header timeout; probes are answered meanwhile', async () => {
    const slow = hold();
    let closed = false;
    slow.on('close', () => (closed = true));
    const head = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'z'.repeat(200);
    for (let i = 0; i < 10 && !closed; i++) {
      slow.write(head.slice(i * 4, i * 4 + 4));
      await sleep(50);
    }
    await healthz();
    await waitFor(() => closed, { timeoutMs: 10_000, message: 'the slow connection was never closed' });
    // A body trickling in after a complete head: the request is refused at once, the body not waited for.
    const answer = await exchange('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc');
    assert.match(answer, /^HTTP\/1\.1 405 /);
    assert.match(answer, /connection: close/i);
    await healthz();
  });

  it('many idle connections: beyond the cap the oldest idle ones are closed, so probes still get in', async () => {
    const idle = Array.from({ length: 60 }, () => hold());
    await waitFor(() => server.connectionCap.evicted > 0, { timeoutMs: 5000, message: 'no eviction' });
    await healthz();
    assert.ok(server.connectionCap.open <= 16, `open connections: ${server.connectionCap.open}`);
    // Half-sent heads count as idle too.
    for (const s of idle.slice(-10)) s.write('GET /status HTTP/1.1\r\n');
    await healthz();
    // And connections that send nothing at all are closed by the header timeout.
    await waitFor(() => idle.every((s) => s.destroyed || s.closed), { timeoutMs: 10_000, message: 'idle connections left open' });
    await healthz();
  });

  it('request bodies on GET/HEAD are refused with 413 and not read (content-length or chunked)', async () => {
    for (const head of [
      'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n',
      'GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer fuzz-token\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HEAD /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n',
    ]) {
      const answer = await exchange(Buffer.concat([Buffer.from(head), Buffer.alloc(64 * 1024, 0x41)]));
      assert.match(answer, /^HTTP\/1\.1 413 /, head);
      assert.match(answer, /connection: close/i);
      await healthz();
    }
    // No body: still fine.
    assert.match(await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  });

  it('binary garbage (fast-check generated) never stops the server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4096 }), async (bytes) => {
        await exchange(Buffer.from(bytes)).catch(() => '');
        return true;
      }),
      { numRuns: 40, seed: 6 },
    );
    await healthz();
  });

  it('a pipelining flood is bounded per socket and answered in order', async () => {
    const req = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const answer = await exchange(req.repeat(300));
    const answered = answer.split('HTTP/1.1 200 OK').length - 1;
    assert.ok(answered >= 1 && answered <= 100, `answered ${answered} pipelined requests (max 100 per socket)`);
    await healthz();
    // Unauthorised /metrics and /status say nothing.
    const denied = await exchange('GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(denied, /^HTTP\/1\.1 401 /);
    assert.ok(!denied.includes('gw'), 'no status detail without the token');
  });
});
