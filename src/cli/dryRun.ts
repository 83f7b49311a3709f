import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Config, RedisSinkConfig } from '../config/Config.ts';
import { Router } from '../pipeline/Router.ts';
import { limitsOf } from '../pipeline/PointLimits.ts';
import { splitLines } from '../lineprotocol/splitLines.ts';
import { TopicPattern } from '../topic/TopicPattern.ts';
import { batchOf } from '../spool/Batch.ts';
import { latestOf, RedisBatchBuilder, streamsOf, type BuiltBatch } from '../sinks/redis/RedisBatchBuilder.ts';

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
export function runDryRun(config: Config, file: string, stdout: Writable, stderr: Writable): number {
  let input: string;
  try {
    input = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    stderr.write(`edgebridge: --dry-run: cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}\n`);
    return DRY_RUN_NO_INPUT;
  }
  const summary = dryRun({ config, input, out: stdout });
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
  const sinkNames = config.sinks.map((s) => s.name);
  const router = new Router({
    routes: config.routes,
    sinkNames,
    gatewayId: config.gatewayId,
    gatewayTag: config.gatewayTag,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    limits: limitsOf(config.mqtt),
  });
  const subscriptions = config.mqtt.subscriptions.map((s) => new TopicPattern(s.topic));
  const builders = new Map(
    config.sinks
      .filter((s): s is RedisSinkConfig => s.type === 'redis')
      .map((s) => [s.name, { config: s, builder: new RedisBatchBuilder(s) }] as const),
  );
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
    // A published topic never holds a wildcard (MQTT refuses it), so no route can be shown matching one.
    if (topic.includes('+') || topic.includes('#')) {
      unrouted++;
      out.write(`  unrouted: a published topic cannot contain "+" or "#"\n`);
      continue;
    }
    if (!subscriptions.some((s) => s.match(topic) !== undefined)) {
      notSubscribed++;
      out.write(
        `  not subscribed: no filter of mqtt.subscriptions (${config.mqtt.subscriptions.map((s) => s.topic).join(', ')}) matches; the broker would not deliver it\n`,
      );
    }
    let result: ReturnType<Router['route']>;
    try {
      result = router.route(topic, Buffer.from(payload, 'utf8'), now);
    } catch (error) {
      // The router is not meant to throw; if it does, say so for this line and go on, without a stack trace.
      rejected++;
      out.write(`  rejected: internal_error (${(error as Error).message})\n`);
      continue;
    }
    if (result.kind === 'unrouted') {
      unrouted++;
      out.write(`  unrouted: no route matches\n`);
      continue;
    }
    const routeIndex = config.routes.findIndex((r) => r.pattern.match(topic) !== undefined);
    const route = config.routes[routeIndex]!;
    if (result.kind === 'rejected') {
      rejected++;
      out.write(`  rejected: ${result.reason} (${result.detail}) by route ${routeIndex + 1} ${route.topic}\n`);
      continue;
    }
    ok++;
    const { entry } = result;
    points += entry.points;
    const targets = config.sinks.filter((_, i) => (entry.sinks & (1 << i)) !== 0);
    out.write(
      `  route ${routeIndex + 1} ${route.topic} [${route.format}] → ${entry.points} point(s) → ${targets.map((s) => s.name).join(', ') || 'no sink'}\n`,
    );
    for (const sink of targets) {
      if (sink.type === 'influx') {
        for (const lp of splitLines(entry.lines)) out.write(`  ${sink.name}: ${lp}\n`);
        continue;
      }
      const batch = batchOf([entry.lines], {
        positions: [0],
        origin: 'dry-run',
        points: entry.points,
        firstReceivedAt: entry.receivedAt,
        lastReceivedAt: entry.receivedAt,
        end: 0,
      });
      const redis = builders.get(sink.name)!;
      for (const command of redisCommands(redis.builder.build(batch), redis.config.streamMaxLen)) out.write(`  ${sink.name}: ${command}\n`);
    }
  }
  out.write(
    `${messages} message(s): ${ok} decoded into ${points} point(s), ${rejected} rejected, ${unrouted} unrouted` +
      `${notSubscribed > 0 ? `, ${notSubscribed} on topics not subscribed` : ''}\n`,
  );
  return { messages, ok, points, rejected, unrouted, notSubscribed };
}

/**
 * The writes the batch script makes for one built batch, as redis-cli commands. Read back from the builder's
 * ARGV (its latest values and stream entries, see `batchScript.ts`): what a dry run shows is what is sent.
 */
export function redisCommands(built: Pick<BuiltBatch, 'argv'>, streamMaxLen: number): string[] {
  const out: string[] = [];
  for (const [valuesKey, timesKey, flat] of latestOf(built)) {
    const values: string[] = [];
    const times: string[] = [];
    for (let f = 0; f + 2 < flat.length; f += 3) {
      values.push(quote(flat[f]!), quote(flat[f + 1]!));
      times.push(quote(flat[f]!), flat[f + 2]!);
    }
    out.push(`HSET ${quote(valuesKey)} ${values.join(' ')}   (each field only if not older than ${timesKey})`);
    out.push(`HSET ${quote(timesKey)} ${times.join(' ')}`);
  }
  for (const [streamKey, , pairs] of streamsOf(built)) {
    out.push(`XADD ${quote(streamKey)} MAXLEN ~ ${streamMaxLen} * ${pairs.map(quote).join(' ')}`);
  }
  return out;
}

/** As redis-cli reads it: bare when safe, otherwise double-quoted with escapes. */
function quote(value: string): string {
  return value !== '' && !/[\s"'\\]/.test(value) && !/[^\x21-\x7e]/.test(value) ? value : JSON.stringify(value);
}
