import { afterEach } from 'node:test';
import type { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import type { Logger } from 'pino';
import { RedisSink } from '../../../src/sinks/redis/RedisSink.ts';
import type { RedisSinkConfig } from '../../../src/config/Config.ts';
import { redisSinkConfig } from '../../fakes/redisSinkConfig.ts';

/**
 * A started RedisSink factory for one describe block. Sinks a test left open (an assertion failed before its
 * stop()) are stopped after it, or the file never exits; a 100 000-field script takes seconds on a loaded 2-core
 * machine, so the 1 s test default of the command timeout becomes 30 s.
 */
export function openRedisSinks(
  url: () => string,
  deps: { logger: Logger; collapsed: CollapsingLog },
): (overrides?: Partial<RedisSinkConfig>) => Promise<RedisSink> {
  const open = new Set<RedisSink>();
  afterEach(async () => {
    for (const s of open) await Promise.resolve(s.stop()).catch(() => {});
    open.clear();
  });
  return async (overrides = {}) => {
    const resilience = { ...redisSinkConfig(url()).resilience, timeoutMs: 30_000 };
    const s = new RedisSink({ config: redisSinkConfig(url(), { resilience, ...overrides }), ...deps });
    open.add(s);
    await s.start();
    return s;
  };
}
