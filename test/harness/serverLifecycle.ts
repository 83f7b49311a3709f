import type { ServerProcess } from './ServerProcess.ts';

/** What every server handle (Mosquitto, Redis, VictoriaMetrics) has. */
export interface ServerHandle {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number | undefined;
  readonly process: ServerProcess;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Kill and remove the temp dir. */
  destroy(): Promise<void>;
}

/** The part every server handle (Mosquitto, Redis, VictoriaMetrics) passes straight to its ServerProcess. */
export function serverLifecycle(server: ServerProcess) {
  return {
    process: server,
    stop: async (): Promise<void> => {
      await server.stop();
    },
    kill: async (): Promise<void> => {
      await server.kill();
    },
    restart: (): Promise<void> => server.restart(),
    destroy: (): Promise<void> => server.destroy(),
  };
}
