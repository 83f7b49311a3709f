import type { ResolvedTls } from './resolveTls.ts';

export interface InsecureTls {
  /** The setting that turned verification off, e.g. `mqtt.tls.rejectUnauthorized`. */
  readonly key: string;
  /** What is not verified: `mqtt`, `sink influx`, `sink redis`. */
  readonly target: string;
}

/** The part of the loaded config this looks at (structural, so tls/ does not import config/). */
export interface TlsLinks {
  readonly mqtt: { readonly tls: ResolvedTls };
  readonly sinks: readonly { readonly name: string; readonly tls: ResolvedTls }[];
}

/**
 * Every connection whose server certificate is not verified — the broker and sinks of every type; Gateway.start
 * warns about each, every time (the only place that warns, so each appears once).
 */
export function insecureTls(config: TlsLinks): InsecureTls[] {
  const found: InsecureTls[] = [];
  if (!config.mqtt.tls.rejectUnauthorized) found.push({ key: `${config.mqtt.tls.label}.rejectUnauthorized`, target: 'mqtt' });
  for (const sink of config.sinks) {
    if (!sink.tls.rejectUnauthorized) found.push({ key: `${sink.tls.label}.rejectUnauthorized`, target: `sink ${sink.name}` });
  }
  return found;
}
