import { createHash } from 'node:crypto';
import { STATUS_PAGE_SCRIPT } from './statusPageScript.ts';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0}h2{font-size:1rem;margin:1.2rem 0 .3rem}
header{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}td{font-variant-numeric:tabular-nums;word-break:break-word}
.badge{white-space:nowrap;padding:0 .4rem;border-radius:.3rem;color:#fff;font-weight:600}.ok{background:#2a7d2a}.warn{background:#b7791f}.bad{background:#c53030}
.muted{color:#777}.err{color:#c53030}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.5rem}
.grid div{background:#fff;border:1px solid #ddd;padding:.4rem}.grid b{display:block;font-size:1.1rem}
.stale main{opacity:.5}form{display:grid;grid-template-columns:1fr 2fr auto;gap:.5rem}
input,textarea,button{font:inherit}pre{background:#fff;border:1px solid #ddd;padding:.4rem;white-space:pre-wrap;min-height:1.4em}
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>edgebridge status</title><style>${STYLE}</style></head>
<body><header><h1>edgebridge</h1><span id="gateway" class="muted"></span><span id="ready"></span><span id="updated" class="muted">loading…</span></header>
<main>
<table><tbody id="problems"></tbody></table>
<p><span id="config" class="muted"></span> <span id="config-error" class="err"></span></p>
<h2>Broker</h2><p><span id="mqtt"></span> <span id="mqtt-error" class="muted"></span></p>
<h2>Rates</h2><div class="grid"><div>in<b id="rate-in"></b></div><div>decoded<b id="rate-ok"></b></div>
<div>rejected<b id="rate-rejected"></b></div><div>unrouted<b id="rate-unrouted"></b></div><div>spool<b id="spool"></b></div></div>
<p id="counts" class="muted"></p>
<h2>Sinks</h2><table><thead><tr><th>sink</th><th>breaker</th><th>out</th><th>backlog</th><th>bytes</th><th>age</th><th>time to drain</th><th>written</th><th>last error</th></tr></thead><tbody id="sinks"></tbody></table>
<h2>Last rejected messages (dead letters)</h2><table><thead><tr><th>time</th><th>topic</th><th>reason</th><th>detail</th><th>payload</th></tr></thead><tbody id="rejected"></tbody></table>
<h2>Latest values</h2><table><thead><tr><th>series</th><th>fields</th><th>time</th></tr></thead><tbody id="latest"></tbody></table>
<h2>Route tester</h2><p class="muted">What the routes make of a message: the points and Redis writes, nothing written.</p>
<form id="tester"><input id="topic" placeholder="topic, e.g. sensors/dev1/climate" required><textarea id="payload" rows="2" placeholder='payload, e.g. {"t":21.5}'></textarea><input id="props" placeholder="MQTT 5 user properties, e.g. site=hall1 kind=climate (optional)"><input id="content-type" placeholder="MQTT 5 content type (optional)"><button>Try</button></form>
<pre id="tester-result"></pre>
</main><script>${STATUS_PAGE_SCRIPT}</script></body></html>
`;

/**
 * The status page at `/`: one HTML document with its style and script inline, served from memory. The
 * Content-Security-Policy allows exactly those two by hash and fetches to this origin only: nothing else loads or
 * runs, and no inline handler could (the script adds its listeners itself).
 */
export const STATUS_PAGE = {
  html: HTML,
  csp: [
    "default-src 'none'",
    `script-src ${sha256(STATUS_PAGE_SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
} as const;
