import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Config } from '../config/Config.ts';
import { type MessageProperties, MessageExplainer } from '../explain/MessageExplainer.ts';

/** Every line decoded into points. */
export const DRY_RUN_OK = 0;
/** At least one line was rejected, unrouted, unreadable or on a topic no subscription delivers (EX_DATAERR). */
export const DRY_RUN_DATA_ERROR = 65;
/** FILE (or a --payload-file) cannot be read (EX_NOINPUT). */
export const DRY_RUN_NO_INPUT = 66;

/** How the payloads of FILE's lines are written: as text, or binary as hex (`mosquitto_sub -F '%t %x'`) or base64. */
export type PayloadEncoding = 'text' | 'hex' | 'base64';
const ENCODINGS: readonly PayloadEncoding[] = ['text', 'hex', 'base64'];

/** A payload given on the command line, after its `--topic`. */
export type PayloadArg =
  | { readonly kind: 'text' | 'hex' | 'base64'; readonly value: string }
  | { readonly kind: 'file'; readonly path: string };

export interface DryRunArgs {
  /** The input file, `-` for stdin; undefined when `--dry-run` had no value. */
  readonly file: string | undefined;
  readonly encoding: PayloadEncoding;
  /** `--topic T --payload…` pairs, in order. */
  readonly messages: readonly { readonly topic: string; readonly payload: PayloadArg }[];
  /** What is wrong with the dry-run flags (a usage error), if anything. */
  readonly error: string | undefined;
  /** argv without the dry-run flags, for the config loader. */
  readonly argv: string[];
}

/** The dry run's own flags (besides `--dry-run`), each taking a value. */
const PAYLOAD_FLAGS: Readonly<Record<string, PayloadArg['kind']>> = {
  '--payload': 'text',
  '--payload-hex': 'hex',
  '--payload-base64': 'base64',
  '--payload-file': 'file',
};
export const DRY_RUN_FLAGS = ['--dry-run', '--topic', '--payload-encoding', ...Object.keys(PAYLOAD_FLAGS)];

/**
 * Takes `--dry-run FILE` (or `--dry-run=FILE`), `--payload-encoding E`, and the `--topic T` + one of `--payload`,
 * `--payload-hex`, `--payload-base64`, `--payload-file` pairs out of argv; undefined when `--dry-run` is not there
 * (the other flags are then unknown options, as before).
 */
export function extractDryRun(argv: readonly string[]): DryRunArgs | undefined {
  const at = argv.findIndex((a) => a === '--dry-run' || a.startsWith('--dry-run='));
  if (at === -1) return undefined;
  const rest: string[] = [];
  let file: string | undefined;
  let encoding: PayloadEncoding = 'text';
  let error: string | undefined;
  const messages: { topic: string; payload: PayloadArg }[] = [];
  let topic: string | undefined;
  const fail = (message: string) => {
    error ??= message;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name === '--dry-run') {
      if (i !== at) {
        fail('--dry-run is given twice');
        continue;
      }
      if (eq !== -1) file = arg.slice(eq + 1) || undefined;
      else {
        const next = argv[i + 1];
        if (next !== undefined && (!next.startsWith('-') || next === '-')) {
          file = next;
          i++;
        }
      }
      continue;
    }
    if (name !== '--topic' && name !== '--payload-encoding' && !(name in PAYLOAD_FLAGS)) {
      rest.push(arg);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) {
      fail(`${name} takes a value`);
      continue;
    }
    if (name === '--payload-encoding') {
      if (!ENCODINGS.includes(value as PayloadEncoding)) fail(`--payload-encoding "${value}": expected ${ENCODINGS.join(', ')}`);
      else encoding = value as PayloadEncoding;
    } else if (name === '--topic') {
      if (topic !== undefined) fail(`--topic ${topic} has no payload (--payload, --payload-hex, --payload-base64 or --payload-file)`);
      topic = value;
    } else {
      if (topic === undefined) {
        fail(`${name} must follow a --topic`);
        continue;
      }
      const kind = PAYLOAD_FLAGS[name]!;
      messages.push({ topic, payload: kind === 'file' ? { kind, path: value } : { kind, value } });
      topic = undefined;
    }
  }
  if (topic !== undefined) fail(`--topic ${topic} has no payload (--payload, --payload-hex, --payload-base64 or --payload-file)`);
  if (file !== undefined && messages.length > 0) fail('--dry-run takes a FILE or --topic/--payload pairs, not both');
  if (messages.length > 0 && encoding !== 'text')
    fail('--payload-encoding is for the lines of a FILE; use --payload-hex or --payload-base64');
  if (file === undefined && messages.length === 0) fail('--dry-run takes a FILE (or - for stdin), or --topic T --payload-file PATH pairs');
  return { file, encoding, messages, error, argv: rest };
}

/** One message of the dry run, or why its input cannot be read. */
export type DryRunMessage =
  | { readonly label: string; readonly topic: string; readonly payload: Buffer; readonly shown: string }
  | { readonly label: string; readonly topic: string; readonly error: string };

export interface DryRunOptions {
  readonly config: Config;
  /** The lines `topic payload`; the topic ends at the first space, the rest is the payload. */
  readonly input?: string;
  /** How the payloads of `input` are written. Default text. */
  readonly encoding?: PayloadEncoding;
  /** Messages given otherwise (the command line's pairs), instead of `input`. */
  readonly messages?: readonly DryRunMessage[];
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
  /** Rejected by a route, or not readable as the encoding said (counted here too). */
  readonly rejected: number;
  readonly unrouted: number;
  readonly notSubscribed: number;
}

export interface DryRunInput {
  readonly file: string | undefined;
  readonly encoding: PayloadEncoding;
  readonly messages: readonly { readonly topic: string; readonly payload: PayloadArg }[];
  /** MQTT 5 properties every message carries (`--user-property`, `--content-type`). */
  readonly properties?: MessageProperties | undefined;
}

/** Reads FILE (`-` = stdin) or the command line's messages, runs them, returns the exit code. Nothing connects anywhere. */
export function runDryRun(config: Config, input: DryRunInput, stdout: Writable, stderr: Writable): number {
  let options: Pick<DryRunOptions, 'input' | 'encoding' | 'messages'>;
  const file = input.file;
  if (file !== undefined) {
    try {
      options = { input: fs.readFileSync(file === '-' ? 0 : file, 'utf8'), encoding: input.encoding };
    } catch (error) {
      stderr.write(`edgebridge: --dry-run: cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}\n`);
      return DRY_RUN_NO_INPUT;
    }
  } else {
    const messages: DryRunMessage[] = [];
    for (const [i, m] of input.messages.entries()) {
      if (m.payload.kind !== 'file') {
        messages.push(decodeMessage(`${i + 1}`, m.topic, m.payload.value, m.payload.kind));
        continue;
      }
      let payload: Buffer;
      try {
        payload = fs.readFileSync(m.payload.path);
      } catch (error) {
        stderr.write(`edgebridge: --dry-run: cannot read --payload-file ${m.payload.path}: ${(error as Error).message}\n`);
        return DRY_RUN_NO_INPUT;
      }
      messages.push({ label: `${i + 1}`, topic: m.topic, payload, shown: `(${payload.length} bytes from ${m.payload.path})` });
    }
    options = { messages };
  }
  const summary = dryRun({ config, ...options, out: stdout, properties: input.properties });
  return summary.ok === summary.messages && summary.notSubscribed === 0 ? DRY_RUN_OK : DRY_RUN_DATA_ERROR;
}

/**
 * The messages of FILE: each line `topic payload` (the topic ends at the first space; blank lines and lines
 * starting with `#` are skipped), the payload as text, or binary written as hex or base64; labelled by line number.
 */
export function parseDryRunLines(input: string, encoding: PayloadEncoding = 'text'): DryRunMessage[] {
  const out: DryRunMessage[] = [];
  const lines = input.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const space = line.indexOf(' ');
    const topic = space === -1 ? line : line.slice(0, space);
    const payload = space === -1 ? '' : line.slice(space + 1);
    out.push(decodeMessage(`${n + 1}`, topic, payload, encoding));
  }
  return out;
}

function decodeMessage(label: string, topic: string, text: string, encoding: PayloadEncoding): DryRunMessage {
  if (encoding === 'text') return { label, topic, payload: Buffer.from(text, 'utf8'), shown: text };
  const compact = text.replace(/\s+/g, '');
  const valid = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/ : /^[A-Za-z0-9+/_-]*={0,2}$/;
  if (!valid.test(compact) || (encoding === 'base64' && compact.replace(/=+$/, '').length % 4 === 1)) {
    const what = encoding === 'hex' ? 'hex (an even number of 0-9a-f digits)' : 'base64';
    return { label, topic, error: `the payload is not ${what}: "${compact.slice(0, 32)}${compact.length > 32 ? '…' : ''}"` };
  }
  const payload = Buffer.from(compact, encoding);
  return { label, topic, payload, shown: `(${payload.length} bytes, ${encoding})` };
}

/**
 * Runs each message through the configured routes, in order and with one state (a Sparkplug DBIRTH explains the
 * DDATA after it), as the gateway would on arrival, and prints what each sink would receive: the line protocol for
 * InfluxDB sinks, the Redis commands (keys and fields) the batch script would run for Redis sinks — or why the
 * message is rejected, unrouted, or never delivered because no subscription covers its topic.
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
  const input = options.messages ?? parseDryRunLines(options.input ?? '', options.encoding);
  for (const m of input) {
    messages++;
    if ('error' in m) {
      rejected++;
      out.write(`${m.label}: ${m.topic}\n  unreadable: ${m.error}\n`);
      continue;
    }
    out.write(`${m.label}: ${m.topic} ${m.shown}\n`);
    const x = explainer.explain(m.topic, m.payload, now, options.properties);
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
