/** The demo's private Mosquitto, Redis and VictoriaMetrics, in the demo's temp dir, stopped in order at the end. */
import fs from 'node:fs';
import path from 'node:path';
import { startMosquitto, startRedis, startVictoriaMetrics } from '../../test/harness/index.ts';
import type { MosquittoHandle, RedisHandle, VictoriaMetricsHandle } from '../../test/harness/index.ts';
import { sessionWrapper } from './prerequisites.ts';

export interface DemoServers {
  mosquitto: MosquittoHandle | undefined;
  redis: RedisHandle | undefined;
  vm: VictoriaMetricsHandle | undefined;
}

/** The three once started. */
export type StartedServers = { [K in keyof DemoServers]-?: NonNullable<DemoServers[K]> };

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Starts the three into `into` (so a failure leaves what did start there, to be stopped). */
export async function startDemoServers(
  into: DemoServers,
  demoDir: string,
  bins: { mosquitto: string; redis: string; vm: string },
): Promise<void> {
  const ours = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const binDir = path.join(demoDir, 'bin');
  fs.mkdirSync(binDir);
  // The harness makes each server's dir under os.tmpdir(): point it at the demo dir so all is in one place.
  const savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = demoDir;
  try {
    [into.mosquitto, into.redis, into.vm] = await Promise.all([
      startMosquitto({ command: sessionWrapper(binDir, bins.mosquitto) }),
      startRedis({ command: sessionWrapper(binDir, bins.redis) }),
      startVictoriaMetrics({ command: sessionWrapper(binDir, bins.vm), extraArgs: ['-loggerLevel=ERROR'] }),
    ]);
  } finally {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
  }
  // The harness (made for tests) SIGKILLs its servers on the first SIGINT/SIGTERM: the demo wants to
  // stop them in order after its final check, so only the demo's handler stays (the exit hook remains).
  for (const [s, before] of ours) {
    for (const l of process.listeners(s)) if (!before.has(l)) process.removeListener(s, l as (...a: unknown[]) => void);
  }
}

/** SIGTERM each server (VictoriaMetrics flushes), wait, remove their dirs. */
export async function stopDemoServers(servers: DemoServers): Promise<void> {
  await Promise.all(
    [servers.mosquitto, servers.redis, servers.vm].map(async (s) => {
      if (s === undefined) return;
      try {
        await s.stop();
      } finally {
        await s.destroy().catch(() => undefined);
      }
    }),
  );
}
