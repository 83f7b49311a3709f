/**
 * `npm run build`'s second step: the gateway and its libraries as one ES module, dist/bundle/edgebridge.mjs,
 * which the systemd unit and the container image run (dist/main.js, tsc's output, stays for the tests and
 * `npm start`: the same code). Measured (bench/idle-variants.ts, the unit's flags): idle RSS 78.7 MB against
 * 84.7 MB for dist/main.js — fewer module records and file reads (file-backed pages −5.2 MB) and less heap.
 * Not minified on purpose: the minified bundle measured 82.7 MB, its anonymous memory 4 MB above the plain
 * one (V8 compiles more of a minified file eagerly), and readable stack traces are worth keeping.
 *
 * Left outside the bundle, loaded at run time from node_modules with `createRequire` as in the sources: the
 * InfluxDB client (required, not imported, see src/sinks/influx/influxClient.ts) and protobufjs (only when a
 * Sparkplug payload arrives). Hence `require` in the banner, for the CommonJS libraries inside the bundle.
 * The bundle sits two levels below package.json, as src/cli/*.ts and dist/cli/*.js do, so readVersion() finds it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(ROOT, 'dist', 'bundle', 'edgebridge.mjs');

await build({
  entryPoints: [path.join(ROOT, 'src', 'main.ts')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // The CommonJS builds Node itself would load (mqtt, ioredis…), not the libraries' ES module builds.
  mainFields: ['main'],
  conditions: ['require'],
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
