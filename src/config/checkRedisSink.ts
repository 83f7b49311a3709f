import type { RedisSinkConfig } from './Config.ts';
import { FormatError } from './FormatError.ts';

/**
 * Checks of one Redis sink that span several keys, so that a wrong setup fails at start with exit 78 instead of
 * as an endless stream of connection errors. `at` is the sink's key (`sinks.redis`, `sinks.extra[2]`). Its TLS
 * block is checked like every other one, by checkTlsConfig.
 */
export function checkRedisSink(
  at: string,
  sink: Pick<RedisSinkConfig, 'mode' | 'sentinels' | 'waitReplicas' | 'waitTimeoutMs' | 'resilience'>,
): void {
  if (sink.mode === 'sentinel' && sink.sentinels.length === 0) {
    throw new FormatError({ path: `${at}.sentinels`, expected: 'at least one "host:port" when mode is sentinel', value: [] });
  }
  if (sink.waitReplicas > 0 && sink.waitTimeoutMs >= sink.resilience.timeoutMs) {
    throw new FormatError({
      path: `${at}.waitTimeoutMs`,
      expected: `less than ${at}.resilience.timeoutMs (${sink.resilience.timeoutMs}): the WAIT runs inside one write attempt`,
      value: sink.waitTimeoutMs,
    });
  }
}
