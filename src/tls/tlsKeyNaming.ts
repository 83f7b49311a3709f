import { envNameFor } from '../config/schema.ts';
import type { TlsKeyNaming } from './readTlsFiles.ts';

/**
 * How errors name a TLS block's keys and say where to set them. Keys of `mqtt` and the default sinks have
 * EDGEBRIDGE_* variables; those of `sinks.extra[…]` live only in the config file.
 */
export function tlsKeyNaming(at: string): TlsKeyNaming {
  return {
    at,
    howToSet: (key) =>
      key.startsWith('sinks.extra') ? `set "${key}" in the config file` : `set ${envNameFor(key)} or "${key}" in the config file`,
  };
}

/** The TLS block of a sink, by name: `sinks.influx.tls`, or `sinks.extra[name=cloud].tls` for an extra sink. */
export function sinkTlsPath(name: string, type: string): string {
  return name === type ? `sinks.${name}.tls` : `sinks.extra[name=${name}].tls`;
}
