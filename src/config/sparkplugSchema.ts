/**
 * Keys of the Sparkplug B host (routes with `format: sparkplug`, see docs/sparkplug.md). Kept apart from schema.ts
 * so Sparkplug changes stay in Sparkplug files.
 */
import { FormatError } from '../errors/FormatError.ts';
import { coerceJson, F, type FormatSpec } from './formats.ts';
import { isWritableName } from '../lineprotocol/isWritableName.ts';

/** Metric property keys to write as tags: a JSON array of names that can be tag keys (env/CLI: JSON or `a,b`). */
const propertyKeys: FormatSpec<string[]> = {
  describe: 'JSON array of property keys',
  coerce: (raw) =>
    raw.trim().startsWith('[')
      ? coerceJson(raw)
      : raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
  parse(value) {
    const expected = 'an array of metric property keys that can be tag keys, e.g. ["engUnit"] (not group, node or device)';
    if (!Array.isArray(value)) throw new FormatError({ expected, value });
    for (const [i, key] of value.entries()) {
      if (typeof key !== 'string' || key === '' || !isWritableName(key) || ['group', 'node', 'device'].includes(key)) {
        throw new FormatError({ path: `[${i}]`, expected, value: key });
      }
    }
    return [...new Set(value as string[])];
  },
};

/**
 * The host id of the gateway's own STATE (`spBv1.0/STATE/<hostId>`): one topic level, so no `/`, `+` or `#`
 * (Sparkplug 3.0 gives host ids the rules of the other ids). Empty: no STATE.
 */
const hostId: FormatSpec<string> = {
  describe: 'Sparkplug host id (one topic level), or empty',
  parse(value) {
    const expected = 'a Sparkplug host id: one MQTT topic level without "/", "+" or "#" (e.g. "edgebridge-01"), or "" for no STATE';
    if (typeof value !== 'string' || /[/+#]/.test(value) || value.includes('\u0000')) throw new FormatError({ expected, value });
    return value;
  },
};

export function sparkplugSchema() {
  return {
    hostId: {
      doc: 'Publish this gateway’s own Sparkplug host STATE on `spBv1.0/STATE/<hostId>` (retained, QoS 1, the connection’s Will as the death), so edge nodes that wait for their primary host publish to it. Empty: no STATE. Needs a route with format sparkplug and `mqtt.statusTopic` empty (one connection has one Will).',
      default: '',
      format: hostId,
    },
    rebirth: {
      doc: 'Ask an edge node for a Rebirth (NCMD `Node Control/Rebirth`) when its data cannot be read: data before a BIRTH, a seq gap, an unknown alias. Off by default: it writes to the plant.',
      default: false,
      format: F.boolean,
    },
    rebirthMinIntervalMs: {
      doc: 'At most one Rebirth request per edge node per this many ms.',
      default: 60000,
      format: F.positiveInt,
    },
    maxNodes: {
      doc: 'Edge nodes whose alias maps are kept (memory and `<spool.dir>/sparkplug`); beyond, the least recently heard from is forgotten and counted.',
      default: 10000,
      format: F.positiveInt,
    },
    propertyTags: {
      doc: 'Metric properties (from the BIRTH, or the DATA when it carries them) written as tags of the metric’s points.',
      default: ['engUnit'],
      format: propertyKeys,
    },
  };
}
