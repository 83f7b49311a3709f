/**
 * Config formats of the Redis sink's topology keys: the mode and lists of `host:port` addresses
 * (Sentinel addresses, Cluster seed nodes). Kept apart from formats.ts so Redis changes stay in Redis files.
 */
import { FormatError } from './FormatError.ts';
import { coerceJson, enumFormat, registerFormats, type FormatSpec } from './formats.ts';

export const REDIS_MODES = ['standalone', 'sentinel', 'cluster'] as const;

/** `host:port` or `[v6]:port`; port 1-65535. */
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = HOST_PORT.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

const hostPortList: FormatSpec = {
  describe: 'JSON array of `"host:port"` (env/CLI also `h:p,h:p`)',
  coerce(raw) {
    const s = raw.trim();
    if (s.startsWith('[') && !/^\[[0-9A-Fa-f:.]+\]:/.test(s)) return coerceJson(raw);
    return s === '' ? [] : s.split(',').map((x) => x.trim());
  },
  validate(value) {
    if (!Array.isArray(value)) throw new FormatError({ expected: 'an array of "host:port" strings', value });
    value.forEach((item: unknown, i) => {
      const at = typeof item === 'string' ? item.lastIndexOf('@') : -1;
      if (at !== -1) {
        // `user:password@host:port` (or a URL with credentials): never echo what is before the '@'.
        throw new FormatError({
          path: `[${i}]`,
          expected: 'a "host:port" string without credentials (Sentinels: sinks.redis.sentinelUsername / sentinelPassword)',
          value: `[redacted]@${(item as string).slice(at + 1)}`,
        });
      }
      if (typeof item !== 'string' || parseHostPort(item) === undefined) {
        throw new FormatError({ path: `[${i}]`, expected: 'a "host:port" string (IPv6: "[::1]:26379")', value: item });
      }
    });
  },
};

export const REDIS_FORMATS = {
  'redis-mode': enumFormat(REDIS_MODES),
  'host-port-list': hostPortList,
} satisfies Record<string, FormatSpec>;

registerFormats(REDIS_FORMATS);
