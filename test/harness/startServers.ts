import { startMosquitto, type MosquittoHandle, type MosquittoOptions } from './Mosquitto.ts';
import { startRedis, type RedisHandle, type RedisOptions } from './Redis.ts';
import { startVictoriaMetrics, type VictoriaMetricsHandle, type VictoriaMetricsOptions } from './VictoriaMetrics.ts';

/** A broker and both sinks for one test file, and the gateway environment that points at them. */
export interface Servers {
  readonly mq: MosquittoHandle;
  readonly rd: RedisHandle;
  readonly vm: VictoriaMetricsHandle;
  /** EDGEBRIDGE_MQTT_URL, EDGEBRIDGE_INFLUX_URL and EDGEBRIDGE_REDIS_URL of these servers. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops all three (also those already stopped by the test). */
  destroy(): Promise<void>;
}

/** Starts Mosquitto, redis-server and VictoriaMetrics side by side, each on a free port in a temp dir of its own. */
export async function startServers(
  opts: { mosquitto?: MosquittoOptions; redis?: RedisOptions; victoriaMetrics?: VictoriaMetricsOptions } = {},
): Promise<Servers> {
  const [mq, rd, vm] = await Promise.all([
    startMosquitto(opts.mosquitto),
    startRedis(opts.redis),
    startVictoriaMetrics(opts.victoriaMetrics),
  ]);
  return {
    mq,
    rd,
    vm,
    env: { EDGEBRIDGE_MQTT_URL: mq.url, EDGEBRIDGE_INFLUX_URL: vm.url, EDGEBRIDGE_REDIS_URL: rd.url },
    destroy: async () => {
      await Promise.all([mq.destroy(), rd.destroy(), vm.destroy()]);
    },
  };
}
