import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '../../harness/index.ts';
import { InfluxSink } from '../../../src/sinks/influx/InfluxSink.ts';
import type { InfluxSinkConfig } from '../../../src/config/Config.ts';
import { resolveTls } from '../../../src/tls/resolveTls.ts';
import { batchOf } from '../../../src/spool/Batch.ts';

const never = new AbortController().signal;
const batch = (line: string) =>
  batchOf([line], { positions: [0], origin: 'test', points: 1, bytes: line.length, firstReceivedAt: 0, lastReceivedAt: 0, end: 1 });

/**
 * InfluxSink.renewTls against a real HTTPS server that requires client certificates (of either PKI) and says which
 * one each request came with: the write in flight finishes on the old TLS connection, the next goes out with the
 * renewed certificate.
 */
describe('InfluxSink: renewed TLS material for the next write', () => {
  let oldPki: TestPki;
  let newPki: TestPki;
  let server: https.Server;
  let dir: string;
  /** The client certificate's CN of each request, in arrival order. */
  const seen: string[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    oldPki = createTestPki({ clientName: 'gw-old' });
    newPki = createTestPki({ clientName: 'gw-new' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-influx-renew-'));
    server = https.createServer(
      {
        cert: fs.readFileSync(oldPki.server.cert),
        key: fs.readFileSync(oldPki.server.key),
        ca: [fs.readFileSync(oldPki.caFile), fs.readFileSync(newPki.caFile)],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        seen.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
        req.resume();
        const answer = (): void => void res.writeHead(204).end();
        // The first request is held until the test releases it: a write in flight across the renewal.
        if (seen.length === 1) release = answer;
        else answer();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    oldPki?.destroy();
    newPki?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a write in flight finishes with the old certificate; the next one uses the renewed one', async () => {
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const files = { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'client.crt'), keyFile: path.join(dir, 'client.key') };
    const install = (pki: TestPki): void => {
      fs.copyFileSync(oldPki.caFile, files.caFile); // the server's certificate stays the old CA's
      fs.copyFileSync(pki.client.cert, files.certFile);
      fs.copyFileSync(pki.client.key, files.keyFile);
    };
    const tls = () => resolveTls(url, 'url', { ...files, rejectUnauthorized: true }, 'sinks.influx.tls');
    install(oldPki);
    const config: InfluxSinkConfig = {
      name: 'influx',
      type: 'influx',
      url,
      token: 't',
      org: 'o',
      bucket: 'b',
      gzip: false,
      tls: tls(),
      batch: { maxPoints: 5000, maxBytes: 1 << 20, flushIntervalMs: 1000 },
      resilience: { timeoutMs: 5000, retryInitialMs: 100, retryMaxMs: 1000, breakerThreshold: 3, breakerHalfOpenAfterMs: 1000 },
    };
    const sink = new InfluxSink({ config });
    await sink.start();
    const first = sink.write(batch('m v=1 1'), never);
    while (release === undefined) await new Promise((r) => setTimeout(r, 10));

    install(newPki);
    await sink.renewTls(tls());
    const second = await sink.write(batch('m v=2 2'), never);
    assert.deepEqual(second, { accepted: 1, rejected: 0 });
    release();
    assert.deepEqual(await first, { accepted: 1, rejected: 0 }, 'the write in flight finished on the old connection');
    await sink.write(batch('m v=3 3'), never);
    assert.deepEqual(seen, ['gw-old', 'gw-new', 'gw-new']);
    await sink.stop();
  });
});
