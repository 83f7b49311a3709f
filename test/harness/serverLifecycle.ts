import type { ServerProcess } from './ServerProcess.ts';

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
