import type { Logger } from 'pino';
import type { Config } from '../config/Config.ts';
import { DiskSpool } from './disk/DiskSpool.ts';
import { MemorySpool } from './MemorySpool.ts';
import type { Spool } from './Spool.ts';

/** The spool of `spool.type`, with one slot per configured sink. */
export function buildSpool(config: Config, logger: Logger): Spool {
  const c = config.spool;
  if (c.type === 'memory') return new MemorySpool({ maxBytes: c.maxBytes, overflow: c.overflow, sinkCount: config.sinks.length });
  return new DiskSpool({ ...c, sinks: config.sinks.map((s) => s.name), logger: logger.child({ part: 'spool' }) });
}
