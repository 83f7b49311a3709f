/** The demo's command line: --devices, --rate, --duration (exit 2 with the usage on anything else). */
import { parseArgs } from 'node:util';

const out = (line = ''): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

const USAGE = `usage: npm run demo [-- --devices N] [--rate MSG_PER_S] [--duration SECONDS]
  --devices   simulated sensors (default 50)
  --rate      total messages per second (default 200)
  --duration  stop after this many seconds (default: run until Ctrl-C)
`;

export interface DemoArgs {
  devices: number;
  rate: number;
  duration: number | undefined;
}

export function parseDemoArgs(argv: string[]): DemoArgs {
  let values: { devices?: string; rate?: string; duration?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        devices: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`demo: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    out(USAGE);
    process.exit(0);
  }
  const num = (name: string, text: string | undefined, fallback: number, integer: boolean): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      err(`demo: --${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  return {
    devices: num('devices', values.devices, 50, true),
    rate: num('rate', values.rate, 200, false),
    duration: values.duration === undefined ? undefined : num('duration', values.duration, 0, false),
  };
}
