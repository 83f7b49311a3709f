import type { IClientOptions } from 'mqtt';
import type { TlsFiles } from '../tls/readTlsFiles.ts';

const KEYS = ['ca', 'cert', 'key'] as const;

/**
 * Puts renewed TLS material into a client's options, where mqtt.js reads it on every connect (`client.options` is
 * the object its stream builder is given). Over wss:// mqtt.js copies the keys into `wsOptions` on the first connect
 * and never again once they are there, so they are replaced there too. A key the new files lack is removed.
 */
export function renewTlsOptions(options: IClientOptions, files: TlsFiles | undefined): void {
  const targets: Record<string, unknown>[] = [options as Record<string, unknown>];
  const ws = (options as { wsOptions?: Record<string, unknown> }).wsOptions;
  if (ws !== undefined) targets.push(ws);
  for (const target of targets) {
    for (const key of KEYS) {
      const value = files?.[key];
      if (value === undefined) delete target[key];
      else target[key] = value;
    }
  }
}
