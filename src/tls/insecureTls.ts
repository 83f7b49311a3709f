import type { Config } from '../config/Config.ts';
import { sinkTlsPath } from './tlsKeyNaming.ts';

export interface InsecureTls {
  /** The setting that turned verification off, e.g. `mqtt.tls.rejectUnauthorized`. */
  readonly key: string;
  /** What is not verified: `mqtt`, `sink influx`, `sink redis`. */
  readonly target: string;
}

/**
 * Every connection whose server certificate is not verified — the broker and sinks of every type; Gateway.start
 * warns about each, every time (the only place that warns, so each appears once).
 */
export function insecureTls(config: Config): InsecureTls[] {
  const found: InsecureTls[] = [];
  if (!config.mqtt.tls.rejectUnauthorized) found.push({ key: 'mqtt.tls.rejectUnauthorized', target: 'mqtt' });
  for (const sink of config.sinks) {
    if (!sink.tls.rejectUnauthorized) {
      found.push({ key: `${sinkTlsPath(sink.name, sink.type)}.rejectUnauthorized`, target: `sink ${sink.name}` });
    }
  }
  return found;
}
