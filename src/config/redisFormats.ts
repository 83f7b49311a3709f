/**
 * Config formats of the Redis sink's topology keys: the mode and lists of `host:port` addresses
 * (Sentinel addresses, Cluster seed nodes). Kept apart from formats.ts so Redis changes stay in Redis files.
 */
import { FormatError } from './FormatError.ts';
import { coerceJson, enumFormat, type FormatSpec } from './formats.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port` or `[v6]:port`; port 1-65535. */
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

export function parseHostPort(text: string): HostPort | undefined {
  const m = HOST_PORT.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** Configured as `"host:port"` strings; loaded as {host, port}. */
const hostPortList: FormatSpec<HostPort[]> = {
  describe: 'JSON array of `"host:port"` (env/CLI also `h:p,h:p`)',
  coerce(raw) {
    const s = raw.trim();
    if (s.startsWith('[') && !/^\[[0-9A-Fa-f:.]+\]:/.test(s)) return coerceJson(raw);
    return s === '' ? [] : s.split(',').map((x) => x.trim());
  },
  parse(value) {
    if (!Array.isArray(value)) throw new FormatError({ expected: 'an array of "host:port" strings', value });
    return value.map((item: unknown, i) => {
      const at = typeof item === 'string' ? item.lastIndexOf('@') : -1;
      if (at !== -1) {
        // `user:password@host:port` (or a URL with credentials): never echo what is before the '@'.
        throw new FormatError({
          path: `[${i}]`,
          expected: 'a "host:port" string without credentials (Sentinels: sinks.redis.sentinelUsername / sentinelPassword)',
          value: `[redacted]@${(item as string).slice(at + 1)}`,
        });
      }
      const parsed = typeof item === 'string' ? parseHostPort(item) : undefined;
      if (parsed === undefined) {
        throw new FormatError({ path: `[${i}]`, expected: 'a "host:port" string (IPv6: "[::1]:26379")', value: item });
      }
      return parsed;
    });
  },
};

export const REDIS_F = {
  redisMode: enumFormat(['standalone', 'sentinel', 'cluster']),
  hostPortList,
};
