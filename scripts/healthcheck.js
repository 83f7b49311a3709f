#!/usr/bin/env node
// Container health probe (Docker HEALTHCHECK; no curl in the image): exits 0 when the gateway answers 200 on
// /healthz (or the path given as the first argument, e.g. /readyz), 1 otherwise (error, timeout, other status).
//
//   node scripts/healthcheck.js            liveness
//   node scripts/healthcheck.js /readyz    readiness
//
// It reads the gateway's own settings: EDGEBRIDGE_HTTP_PORT (default 8080) and EDGEBRIDGE_HTTP_HOST (a wildcard
// address such as 0.0.0.0 is probed on loopback). EDGEBRIDGE_HEALTHCHECK_TIMEOUT_MS: default 3000.
// Plain JavaScript and node:http only, so it starts fast and runs on the image's Node without a build.
import http from 'node:http';

const env = process.env;
const configuredHost = env.EDGEBRIDGE_HTTP_HOST ?? '';
const host = ['', '0.0.0.0', '::', '[::]'].includes(configuredHost) ? '127.0.0.1' : configuredHost.replace(/^\[(.*)\]$/, '$1');
const port = Number(env.EDGEBRIDGE_HTTP_PORT || 8080);
const path = process.argv[2] || '/healthz';
const timeoutMs = Number(env.EDGEBRIDGE_HEALTHCHECK_TIMEOUT_MS || 3000);

const request = http.get({ host, port, path, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
  res.resume();
  const ok = res.statusCode === 200;
  if (!ok) console.error(`healthcheck: ${path} answered ${res.statusCode}`);
  process.exit(ok ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
request.on('error', (error) => {
  console.error(`healthcheck: http://${host}:${port}${path}: ${error.message}`);
  process.exit(1);
});
