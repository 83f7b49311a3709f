/**
 * Real power cuts: the gateway, Mosquitto and Redis in a qemu guest, QoS 1 traffic from the host, SIGKILL of qemu
 * mid-traffic, boot again, count what the gateway had acknowledged and what Redis holds after recovery.
 *
 *   npm run powercut                                   # 10 cuts each of fsync, write, lostcache
 *   npm run powercut -- --cuts 1                       # the short variant (one cut per mode)
 *   npm run powercut -- --mode write-lostcache --cuts 20 --rate 300 --seed 7
 *
 * Flags: --mode M[,M…] (fsync | write | lostcache | write-lostcache), --cuts N, --rate msg/s, --devices N,
 * --publishers N, --fsync-interval-ms N, --later-writes P (lostcache: share of writes after the last flush that
 * reach the disk anyway), --seed N, --json FILE, --keep-tmp. Exit 0 when every cut passed, 1 otherwise.
 * The guest is built once into $EDGEBRIDGE_POWERCUT_CACHE (default ~/.cache/edgebridge-powercut).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePrerequisites } from './powercut/prerequisites.ts';
import { runPowercut } from './powercut/runPowercut.ts';
import { type CutRecord, POWERCUT_MODES, type PowercutMode, type PowercutResult } from './powercut/types.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'fsync,write,lostcache' },
    cuts: { type: 'string', default: '10' },
    rate: { type: 'string', default: '50' },
    devices: { type: 'string', default: '20' },
    publishers: { type: 'string', default: '2' },
    'fsync-interval-ms': { type: 'string', default: '200' },
    'later-writes': { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
  },
  strict: true,
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`powercut: --${name} must be a positive number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const modes = (values.mode ?? '').split(',').filter(Boolean) as PowercutMode[];
for (const m of modes) {
  if (!POWERCUT_MODES.includes(m)) {
    console.error(`powercut: unknown --mode ${m}; one of ${POWERCUT_MODES.join(', ')}`);
    process.exit(2);
  }
}
const laterWrites = Number(values['later-writes']);
if (!(laterWrites >= 0 && laterWrites <= 1)) {
  console.error(`powercut: --later-writes must be in [0, 1], got ${values['later-writes']}`);
  process.exit(2);
}

const projectDir = path.resolve(import.meta.dirname, '..');
if (!fs.existsSync(path.join(projectDir, 'dist', 'main.js'))) {
  console.error('powercut: dist/main.js missing: run npm run build (npm run powercut does)');
  process.exit(2);
}
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
ensurePrerequisites(log);

const results: PowercutResult[] = [];
const done: PowercutResult[] = [];
const partial: { mode: PowercutMode; cuts: CutRecord[] } = { mode: modes[0]!, cuts: [] };
function writeJson(): void {
  if (values.json) fs.writeFileSync(values.json, `${JSON.stringify({ done, running: partial }, null, 2)}\n`);
}
for (const [i, mode] of modes.entries()) {
  partial.mode = mode;
  partial.cuts = [];
  const result = await runPowercut(
    {
      mode,
      cuts: Math.round(positive('cuts', values.cuts)),
      rate: positive('rate', values.rate),
      devices: Math.round(positive('devices', values.devices)),
      publishers: Math.round(positive('publishers', values.publishers)),
      fsyncIntervalMs: positive('fsync-interval-ms', values['fsync-interval-ms']),
      laterWriteProbability: laterWrites,
      cutAfterMs: [1500, 6000],
      seed: Math.round(positive('seed', values.seed)) + i * 1000,
      recoveryTimeoutMs: 600_000,
      log,
      onCut: (cut) => {
        partial.cuts.push(cut);
        writeJson();
      },
      keepTmp: values['keep-tmp'] ?? false,
    },
    projectDir,
  );
  results.push(result);
  done.push(result);
  partial.cuts = [];
  writeJson();
  log(result.summary);
}
console.log('');
for (const r of results) console.log(r.summary);
process.exit(results.every((r) => r.ok) ? 0 : 1);
