import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Config } from '../config/Config.ts';
import { type MessageProperties, MessageExplainer } from '../explain/MessageExplainer.ts';

/** Every line decoded into points. */
export const DRY_RUN_OK = 0;
/** At least one line was rejected, unrouted or on a topic no subscription delivers (EX_DATAERR). */
export const DRY_RUN_DATA_ERROR = 65;
/** FILE cannot be read (EX_NOINPUT). */
export const DRY_RUN_NO_INPUT = 66;

export interface DryRunArgs {
  /** The input file, `-` for stdin; undefined when `--dry-run` had no value. */
  readonly file: string | undefined;
  /** argv without `--dry-run FILE`, for the config loader. */
  readonly argv: string[];
}

/** Takes `--dry-run FILE` (or `--dry-run=FILE`) out of argv; undefined when it is not there. */
export function extractDryRun(argv: readonly string[]): DryRunArgs | undefined {
  const at = argv.findIndex((a) => a === '--dry-run' || a.startsWith('--dry-run='));
  if (at === -1) return undefined;
  const arg = argv[at]!;
  if (arg.startsWith('--dry-run=')) return { file: arg.slice(10) || undefined, argv: [...argv.slice(0, at), ...argv.slice(at + 1)] };
  const next = argv[at + 1];
  const file = next === undefined || (next.startsWith('-') && next !== '-') ? undefined : next;
  return { file, argv: [...argv.slice(0, at), ...argv.slice(at + (file === undefined ? 1 : 2))] };
}

export interface DryRunOptions {
  readonly config: Config;
  /** The lines `topic payload`; the topic ends at the first space, the rest is the payload. */
  readonly input: string;
  readonly out: Writable;
  /** Arrival time given to every message (epoch ms); default now. */
  readonly now?: number;
  /** MQTT 5 properties given to every message (`--user-property`, `--content-type`); default none. */
  readonly properties?: MessageProperties | undefined;
}

export interface DryRunSummary {
  readonly messages: number;
  readonly ok: number;
  readonly points: number;
  readonly rejected: number;
  readonly unrouted: number;
  readonly notSubscribed: number;
}

/** Reads FILE (`-` = stdin), runs it, returns the exit code. Nothing connects anywhere. */
export function runDryRun(config: Config, file: string, stdout: Writable, stderr: Writable, properties?: MessageProperties): number {
  let input: string;
  try {
    input = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    stderr.write(`edgebridge: --dry-run: cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}\n`);
    return DRY_RUN_NO_INPUT;
  }
  const summary = dryRun({ config, input, out: stdout, properties });
  return summary.ok === summary.messages && summary.notSubscribed === 0 ? DRY_RUN_OK : DRY_RUN_DATA_ERROR;
}

/**
 * Runs each `topic payload` line through the configured routes, as the gateway would on arrival, and prints what
 * each sink would receive: the line protocol for InfluxDB sinks, the Redis commands (keys and fields) the batch
 * script would run for Redis sinks — or why the message is rejected, unrouted, or never delivered because no
 * subscription covers its topic. Blank lines and lines starting with `#` are skipped.
 */
export function dryRun(options: DryRunOptions): DryRunSummary {
  const { config, out } = options;
  const now = options.now ?? Date.now();
  const explainer = new MessageExplainer(config);
  let messages = 0;
  let ok = 0;
  let points = 0;
  let rejected = 0;
  let unrouted = 0;
  let notSubscribed = 0;
  const lines = options.input.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    messages++;
    const space = line.indexOf(' ');
    const topic = space === -1 ? line : line.slice(0, space);
    const payload = space === -1 ? '' : line.slice(space + 1);
    out.write(`${n + 1}: ${topic} ${payload}\n`);
    const x = explainer.explain(topic, Buffer.from(payload, 'utf8'), now, options.properties);
    if (!x.subscribed) {
      notSubscribed++;
      out.write(
        `  not subscribed: no filter of mqtt.subscriptions (${config.mqtt.subscriptions.map((s) => s.topic).join(', ')}) matches; the broker would not deliver it\n`,
      );
    }
    switch (x.kind) {
      case 'unrouted':
        unrouted++;
        out.write(x.why === 'wildcard' ? `  unrouted: a published topic cannot contain "+" or "#"\n` : `  unrouted: no route matches\n`);
        continue;
      case 'rejected':
        rejected++;
        out.write(
          x.route === undefined
            ? `  rejected: ${x.reason} (${x.detail})\n`
            : `  rejected: ${x.reason} (${x.detail}) by route ${x.route.number} ${x.route.topic}\n`,
        );
        continue;
      case 'ok':
        ok++;
        points += x.points;
        out.write(
          `  route ${x.route.number} ${x.route.topic} [${x.route.format}] → ${x.points} point(s) → ${x.writes.map((w) => w.sink).join(', ') || 'no sink'}\n`,
        );
        for (const w of x.writes) for (const text of w.type === 'influx' ? w.lines : w.commands) out.write(`  ${w.sink}: ${text}\n`);
        // Report by exception: what the route's deadband kept from its thinned sinks (earlier lines are remembered).
        for (const held of x.suppressed) out.write(`  suppressed for ${x.thinned.join(', ')}: ${held}\n`);
    }
  }
  out.write(
    `${messages} message(s): ${ok} decoded into ${points} point(s), ${rejected} rejected, ${unrouted} unrouted` +
      `${notSubscribed > 0 ? `, ${notSubscribed} on topics not subscribed` : ''}\n`,
  );
  return { messages, ok, points, rejected, unrouted, notSubscribed };
}
