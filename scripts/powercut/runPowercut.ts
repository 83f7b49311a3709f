/**
 * One power-cut run of one mode: boot the guest, let the gateway recover and drain, judge the previous cut from
 * what Redis holds, publish sequenced QoS 1 traffic from the host, SIGKILL qemu mid-traffic; `cuts` times, plus
 * one last boot to judge the last cut. The data disk is kept from boot to boot, exactly as on a device.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, waitFor } from '../../test/harness/index.ts';
import { mulberry32 } from '../bulk/prng.ts';
import { type PublishShared, SequencedPublisher } from '../chaos/SequencedPublisher.ts';
import { redisSeqs } from '../chaos/sinkSeqs.ts';
import { ensureGuestImage, makeDataDisk } from './guestImage.ts';
import { MARK } from './guestFiles.ts';
import { judgeCut } from './judgeCut.ts';
import { MqttTap } from './MqttTap.ts';
import { type CutRecord, modeSpec, type PowercutOptions, type PowercutResult } from './types.ts';
import { Vm, type VmPorts } from './Vm.ts';
import { readWriteLog, replayWriteLog } from './writeLog.ts';

class QemuExited extends Error {
  constructor() {
    super('qemu exited');
  }
}

interface StatusView {
  mqtt: { connected: boolean };
  messages: { received: number };
  spool: Record<string, unknown>;
  sinks: { name: string; backlog: { points: number } }[];
}

async function status(port: number): Promise<StatusView> {
  const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`/status ${res.status}`);
  return (await res.json()) as StatusView;
}

/** Until the gateway has received nothing new for 3 s and the Redis backlog is empty. */
async function drain(port: number, timeoutMs: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor(
    async () => {
      const st = await status(port);
      if (st.messages.received !== last) {
        last = st.messages.received;
        since = Date.now();
      }
      return Date.now() - since >= 3000 && st.sinks.every((s) => s.backlog.points === 0);
    },
    { timeoutMs, intervalMs: 250, message: 'the gateway did not drain after recovery' },
  );
}

function newShared(n: number, devices: number): PublishShared {
  return {
    n,
    devices,
    state: new Uint8Array(n),
    ts: new Float64Array(n),
    ackedAt: new Float64Array(n),
    t0: Date.now(),
    publishes: 0,
    resends: 0,
    acked: 0,
  };
}

/** The publishers for seqs [from, to): device = seq % devices, each publisher owns a share of the devices. */
function startTraffic(opts: PowercutOptions, ports: VmPorts, shared: PublishShared, from: number, to: number, boot: number) {
  const publishers: SequencedPublisher[] = [];
  for (let p = 0; p < opts.publishers; p++) {
    const seqs: number[] = [];
    for (let s = from; s < to; s++) if ((s % opts.devices) % opts.publishers === p) seqs.push(s);
    const url = `mqtt://127.0.0.1:${ports.mqtt}`;
    publishers.push(new SequencedPublisher(url, `powercut-pub-${boot}-${p}`, shared, Int32Array.from(seqs), opts.rate / opts.publishers));
  }
  const runs = publishers.map((p) => p.run().catch(() => {}));
  return {
    stop: async () => {
      for (const p of publishers) p.stop();
      await Promise.all(runs);
    },
  };
}

export async function runPowercut(opts: PowercutOptions, projectDir: string): Promise<PowercutResult> {
  const t0 = Date.now();
  const { ack, lostCache } = modeSpec(opts.mode);
  const rng = mulberry32(opts.seed);
  const image = ensureGuestImage(projectDir, opts.log);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `edgebridge-powercut-${opts.mode}-`));
  const dataDisk = path.join(tmp, 'data.raw');
  const baseDisk = path.join(tmp, 'base.raw');
  const writeLog = path.join(tmp, 'data.log');
  makeDataDisk(dataDisk);
  const ports: VmPorts = { mqtt: await freePort(), redis: await freePort(), http: await freePort() };
  const tap = new MqttTap(ports.mqtt);
  await tap.listen(await freePort());
  const perCycle = Math.ceil((opts.rate * (opts.cutAfterMs[1] + 130_000)) / 1000);
  const shared = newShared(perCycle * opts.cuts, opts.devices);
  const cuts: CutRecord[] = [];
  let gatewayExits = 0;
  let boots = 0;
  let emulatorRetries = 0;
  let vm: Vm | undefined;
  let pending: { index: number; from: number; to: number; cutAt: number; trafficMs: number; replay?: CutRecord['replay'] } | undefined;
  try {
    for (let boot = 0; boot <= opts.cuts; boot++) {
      if (lostCache) execFileSync('cp', ['--sparse=always', dataDisk, baseDisk]);
      const problems: string[] = [];
      let recoveryMs = NaN;
      let spool: Record<string, unknown> = {};
      let recovered = true;
      for (let attempt = 1; ; attempt++) {
        vm = new Vm({
          image,
          dataDisk,
          ports,
          console: path.join(tmp, `console-${boot}-${attempt}.log`),
          settings: { ack, tap: tap.port, fsyncms: opts.fsyncIntervalMs },
          ...(lostCache ? { writeLog } : {}),
        });
        vm.start();
        boots++;
        try {
          const current = vm;
          const st = await waitFor(
            async () => {
              if (!current.running) throw new QemuExited();
              return (await status(ports.http)).mqtt.connected ? status(ports.http) : undefined;
            },
            { timeoutMs: opts.recoveryTimeoutMs, intervalMs: 500, message: 'the gateway did not answer /status connected' },
          );
          recoveryMs = Date.now() - vm.startedAt;
          spool = st.spool;
          if (pending) await drain(ports.http, opts.recoveryTimeoutMs);
        } catch (err) {
          // The emulated kernel can panic before init on a starved host ("IO-APIC + timer doesn't work", seen once
          // at load 30): no disk was touched, so boot again; a failure after the data disk was mounted is a failure.
          if (!vm.running && !vm.consoleText().includes(MARK.dataMounted) && attempt < 3) {
            emulatorRetries++;
            opts.log(
              `boot ${boot}: qemu exited before the guest mounted its data disk; booting again (${
                vm
                  .consoleText()
                  .split('\n')
                  .find((l) => l.includes('panic')) ?? 'no panic line'
              })`,
            );
            await vm.cut();
            continue;
          }
          problems.push(`recovery: ${(err as Error).message}`);
          recovered = false;
        }
        break;
      }
      if (vm === undefined) throw new Error('unreachable: no VM');
      const text = vm.consoleText();
      const exits = text.split('\n').filter((l) => l.startsWith(MARK.gatewayExit) || l.startsWith(MARK.fail));
      gatewayExits += exits.length;
      problems.push(...exits.map((l) => `console: ${l}`));
      if (pending) {
        const landed = new Set(await redisSeqs(`redis://127.0.0.1:${ports.redis}`).catch(() => [] as number[]));
        const counts = judgeCut({
          ...pending,
          shared,
          gatewayAckedAt: tap.gatewayAckedAt,
          landed,
          ack,
          writeWindowMs: opts.fsyncIntervalMs + 500,
        });
        // Before the gateway has drained, what is missing from Redis may still be in the spool: no verdict on losses.
        if (recovered) problems.push(...counts.problems);
        else problems.push('losses not judged: the gateway had not drained');
        const { problems: _, ...figures } = counts;
        const record: CutRecord = {
          index: pending.index,
          trafficMs: pending.trafficMs,
          ...figures,
          recoveryMs,
          spool,
          ok: problems.length === 0,
          problems,
        };
        if (pending.replay) record.replay = pending.replay;
        cuts.push(record);
        opts.log(cutLine(opts.mode, record));
        opts.onCut?.(record);
        if (!record.ok) opts.log(`console tail:\n${text.slice(-2000)}`);
      } else if (problems.length > 0) {
        throw new Error(`first boot failed: ${problems.join('; ')}\n${text.slice(-3000)}`);
      }
      // After a failed recovery the next cycles would judge a gateway that is not there: stop, reported.
      if (boot === opts.cuts || !recovered) break;
      // Traffic, then the cut at a random moment after the first acknowledgement.
      const from = boot * perCycle;
      const to = from + perCycle;
      const gatewayAckedBefore = tap.gatewayAckedAt.size;
      const started = Date.now();
      const traffic = startTraffic(opts, ports, shared, from, to, boot);
      // Cut only once the gateway keeps up: under emulation a fresh Node needs ~10 s of traffic before its
      // acknowledgements follow the broker's (measured: 150 of 1 150 received acknowledged after the first second).
      await waitFor(() => tap.gatewayAckedAt.size - gatewayAckedBefore >= opts.rate * 2, { timeoutMs: 120_000 }).catch(() =>
        opts.log(`cycle ${boot}: the gateway acknowledged less than 2 s of traffic in 120 s; cutting anyway`),
      );
      const [lo, hi] = opts.cutAfterMs;
      await sleep(lo + rng() * (hi - lo));
      const cutAt = Date.now();
      await vm.cut();
      vm = undefined;
      await traffic.stop();
      tap.dropAll();
      pending = { index: boot, from, to, cutAt, trafficMs: cutAt - started };
      if (lostCache) {
        const replay = replayWriteLog(readWriteLog(writeLog), writeLog, baseDisk, opts.laterWriteProbability, rng);
        fs.renameSync(baseDisk, dataDisk);
        pending.replay = replay;
      }
    }
  } finally {
    await vm?.cut();
    await tap.close();
    if (opts.keepTmp) opts.log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ok = cuts.length === opts.cuts && cuts.every((c) => c.ok);
  const result: PowercutResult = {
    mode: opts.mode,
    ok,
    cuts,
    boots,
    emulatorRetries,
    gatewayExits,
    elapsedMs: Date.now() - t0,
    summary: '',
  };
  result.summary = summaryLine(result);
  return result;
}

function cutLine(mode: string, c: CutRecord): string {
  const age = c.lostAgeMs ? ` lostAge=${c.lostAgeMs.min}-${c.lostAgeMs.max}ms` : '';
  const rep = c.replay ? ` replay=flush#${c.replay.lastFlush}/${c.replay.entries} laterDropped=${c.replay.laterDropped}` : '';
  return `powercut ${mode} cut ${c.index + 1}: traffic=${(c.trafficMs / 1000).toFixed(1)}s publisherAcked=${c.publisherAcked} gatewayAcked=${c.gatewayAcked} lostGatewayAcked=${c.lostGatewayAcked}${age} lostAtBroker=${c.lostAtBroker} recovery=${(c.recoveryMs / 1000).toFixed(1)}s${rep} ${c.ok ? 'ok' : `FAIL ${c.problems.join('; ')}`}`;
}

function summaryLine(r: PowercutResult): string {
  const sum = (f: (c: CutRecord) => number) => r.cuts.reduce((a, c) => a + f(c), 0);
  const maxAge = Math.max(0, ...r.cuts.map((c) => c.lostAgeMs?.max ?? 0));
  const rec = r.cuts.map((c) => c.recoveryMs).sort((a, b) => a - b);
  const median = rec.length ? rec[Math.floor(rec.length / 2)]! : NaN;
  return `powercut mode=${r.mode} cuts=${r.cuts.length} ok=${r.cuts.filter((c) => c.ok).length} gatewayAcked=${sum((c) => c.gatewayAcked)} lostGatewayAcked=${sum((c) => c.lostGatewayAcked)} maxLostAge=${maxAge}ms lostAtBroker=${sum((c) => c.lostAtBroker)} publisherAcked=${sum((c) => c.publisherAcked)} gatewayExits=${r.gatewayExits} emulatorRetries=${r.emulatorRetries} recovery median=${(median / 1000).toFixed(1)}s max=${((rec.at(-1) ?? NaN) / 1000).toFixed(1)}s elapsed=${Math.round(r.elapsedMs / 1000)}s ${r.ok ? 'PASS' : 'FAIL'}`;
}
