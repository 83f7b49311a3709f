/** The demo's gateway: started against the demo's servers with its log in the demo dir, stopped with SIGTERM. */
import path from 'node:path';
import { freePort, GatewayProcess, waitFor } from '../../test/harness/index.ts';
import type { StartedServers } from './demoServers.ts';

export const GATEWAY_ID = 'demo';
const err = (line: string): void => void process.stderr.write(line + '\n');

async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * The gateway against the demo's servers, its log in the demo dir. Own process group (detached): a Ctrl-C
 * reaches only the demo, which then stops the gateway with SIGTERM; setpriv --pdeathsig: the kernel kills the
 * gateway should the demo itself be killed.
 */
export async function startDemoGateway(
  servers: StartedServers,
  demoDir: string,
  logFile: string,
  started: (gw: GatewayProcess) => void,
): Promise<GatewayProcess> {
  const { mosquitto, redis, vm } = servers;
  const httpPort = await freePort();
  const baseEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EDGEBRIDGE_')) baseEnv[k] = v;
  const env = {
    EDGEBRIDGE_GATEWAY_ID: GATEWAY_ID,
    EDGEBRIDGE_MQTT_URL: mosquitto.url,
    EDGEBRIDGE_MQTT_CLIENT_ID: `edgebridge-demo-${process.pid}`,
    EDGEBRIDGE_INFLUX_URL: vm.url,
    EDGEBRIDGE_INFLUX_TOKEN: 'demo-token',
    EDGEBRIDGE_INFLUX_ORG: 'demo',
    EDGEBRIDGE_INFLUX_BUCKET: 'demo',
    EDGEBRIDGE_REDIS_URL: redis.url,
    EDGEBRIDGE_HTTP_HOST: '127.0.0.1',
    EDGEBRIDGE_HTTP_PORT: String(httpPort),
    EDGEBRIDGE_SPOOL_DIR: path.join(demoDir, 'spool'),
    EDGEBRIDGE_LOG_LEVEL: 'warn',
  };
  const gateway = await GatewayProcess.start({ env, baseEnv, logFile, detached: true, waitUntil: 'none' });
  started(gateway);
  await waitFor(async () => gateway.exitedAlready || (await httpStatus(`${gateway.url}/readyz`)) === 200, {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: `the gateway did not answer 200 on ${gateway.url}/readyz`,
  });
  if (gateway.exitedAlready) throw new Error(`the gateway exited (${JSON.stringify(await gateway.exited())})`);
  return gateway;
}

/** SIGTERM the gateway and wait for it to exit (SIGKILL after 20 s). */
export async function stopDemoGateway(gw: GatewayProcess | undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (gw === undefined) return { code: null, signal: null };
  if (!gw.exitedAlready) gw.signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    gw.exited(),
    new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), 20_000);
    }),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    err('demo: the gateway did not exit within 20 s of SIGTERM: SIGKILL');
    gw.signal('SIGKILL');
    return gw.exited();
  }
  return result;
}
