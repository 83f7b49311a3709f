import fs from 'node:fs';
import type { RedisSinkConfig } from './Config.ts';
import { ConfigError } from './ConfigError.ts';
import { FormatError } from './FormatError.ts';

/**
 * Checks of one Redis sink that span several keys, or look at the file system, so that a wrong setup fails at
 * start with exit 78 instead of as an endless stream of connection errors. `at` is the sink's key
 * (`sinks.redis`, `sinks.extra[2]`).
 */
export function checkRedisSink(at: string, sink: RedisSinkConfig): void {
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
  const tls = sink.tls;
  const anyTls = tls.caFile !== '' || tls.certFile !== '' || tls.keyFile !== '' || tls.insecure;
  if (anyTls && !sink.url.startsWith('rediss://')) {
    throw new FormatError({ path: `${at}.url`, expected: `a rediss:// URL (TLS), since ${at}.tls.* is set`, value: sink.url });
  }
  if ((tls.certFile === '') !== (tls.keyFile === '')) {
    const missing = tls.certFile === '' ? 'certFile' : 'keyFile';
    throw new FormatError({ path: `${at}.tls.${missing}`, expected: 'a PEM file: certFile and keyFile go together', value: '' });
  }
  for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = tls[name];
    if (file === '') continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (error) {
      throw new ConfigError({
        key: `${at}.tls.${name}`,
        value: file,
        problem: `cannot read ${JSON.stringify(file)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        expected: 'a readable PEM file',
        fix: `check the path and the file's permissions for the edgebridge user, or set "${at}.tls.${name}" to ""`,
      });
    }
  }
}
