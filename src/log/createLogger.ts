import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import { redactUrlsIn } from './redactUrlsIn.ts';

export type { Logger };

/**
 * Paths pino censors wherever they appear in a log object. Secrets never reach a log line by name;
 * credentials inside URLs are masked by the `formatters.log` hook below.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
];

export interface LoggerOptions {
  /** pino's levels, which `log.level` of the config is one of (log/ is a ground floor: it imports no config type). */
  readonly level: LevelWithSilent;
  /** Where JSON lines go; stdout (fd 1, asynchronous-safe) by default. Tests pass an in-memory stream. */
  readonly destination?: DestinationStream;
  readonly base?: Record<string, unknown>;
}

/** JSON to stdout, secrets redacted: the one logger of the daemon, handed to every part. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: options.base ?? null,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Only string values that look like URLs are touched; the scan is cheap and runs per logged line, never per message.
        log: (obj) => redactUrlsIn(obj),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
