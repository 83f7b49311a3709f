import type { Config } from '../config/Config.ts';
import { sinkTlsPath } from './tlsKeyNaming.ts';

export interface InsecureTls {
  /** The setting that turned verification off, e.g. `mqtt.tls.rejectUnauthorized`. */
  readonly key: string;
  /** What is not verified: `mqtt`, `sink influx`. */
  readonly target: string;
}

/** Every connection whose server certificate is not verified; Gateway.start warns about each, every time. */
export function insecureTls(config: Config): InsecureTls[] {
  const found: InsecureTls[] = [];
  if (!config.mqtt.tls.rejectUnauthorized) found.push({ key: 'mqtt.tls.rejectUnauthorized', target: 'mqtt' });
  for (const sink of config.sinks) {
    if (sink.type === 'influx' && !sink.tls.rejectUnauthorized) {
      found.push({ key: `${sinkTlsPath(sink.name, sink.type)}.rejectUnauthorized`, target: `sink ${sink.name}` });
    }
  }
  return found;
}
