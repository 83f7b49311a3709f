import type { TlsKeyNaming } from '../tls/readTlsFiles.ts';
import { envNameFor } from './schema.ts';

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

/** The display label of a sink's TLS block, by name (carried in the loaded config for run-time messages): `sinks.influx.tls`, or `sinks.extra[name=cloud].tls` for an extra sink. */
export function sinkTlsPath(name: string, type: string): string {
  return name === type ? `sinks.${name}.tls` : `sinks.extra[name=${name}].tls`;
}
