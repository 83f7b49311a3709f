import { escapeKey } from '../../lineprotocol/escape.ts';
import { isWritableName } from '../../lineprotocol/isWritableName.ts';
import { decodePayload, has, uint64, type Uint64 } from '../../sparkplug/SparkplugCodec.ts';
import { parseSparkplugTopic } from '../../topic/SparkplugTopic.ts';
import type { Captures } from '../../topic/TopicPattern.ts';
import { type Decoded, type Decoder, type Rejected, rejected } from '../Decoder.ts';
import { DEFAULT_LIMITS, overBytes, type PointLimits } from '../PointLimits.ts';
import type { PointStamp } from '../PointStamp.ts';
import { type FieldSink, metricFields, type SkipReason } from './metricFields.ts';
import type { ResolvedMetric, SparkplugHost, StatusEvent } from './SparkplugHost.ts';
import type { SparkplugStats } from './SparkplugStats.ts';

/** Commands (NCMD/DCMD) and host STATE messages are not data: the router counts them as unrouted. */
const IGNORED: Decoded = Object.freeze({ kind: 'decoded', lines: '', points: 0 });

/** Epoch µs past which a timestamp is refused (year 2255, as parseTime: beyond it µs are not exact doubles). */
const MAX_US = 2 ** 53;

/** The fields of one point being built: one per distinct timestamp and property tags of a message. */
interface Group {
  readonly ts: string;
  readonly tags: readonly (readonly [string, string])[];
  readonly fields: Map<string, string>;
}

/**
 * `sparkplug` payloads: Sparkplug B protobuf on `spBv1.0/<group>/<type>/<node>[/<device>]`, through the host state
 * (SparkplugHost: aliases, seq, births and deaths). Each metric becomes a field named after it (DataSets, templates
 * and arrays into several, see metricFields) of the route's measurement, tagged `group`, `node` and `device`
 * (`<group>/<node>` or `<group>/<node>/<device>`: one Redis latest-value hash per Sparkplug node or device) and
 * with the configured metric properties (`engUnit`). Metrics with the same timestamp and properties share a
 * point; a metric's own timestamp wins over the payload's, which wins over the arrival time (historical metrics
 * thus land at their time). BIRTHs and DEATHs also write a `<measurement>_status` point at the arrival time:
 * `online`, `event`, and the node's `bdSeq`.
 */
export class SparkplugDecoder implements Decoder {
  readonly #stamp: PointStamp;
  readonly #host: SparkplugHost;
  readonly #stats: SparkplugStats;
  readonly #limits: PointLimits;
  // Per-message state, kept on the instance: decode is synchronous.
  #group: Group | undefined;
  #tooMany = false;
  readonly #sink: FieldSink = {
    field: (name, value) => {
      const group = this.#group!;
      if (name === '' || overBytes(name, this.#limits.maxNameBytes) || !isWritableName(name)) return this.#stats.skip('bad_name');
      if (!group.fields.has(name) && group.fields.size >= this.#limits.maxFields) {
        this.#tooMany = true;
        return;
      }
      group.fields.set(name, value);
    },
    skip: (reason: SkipReason) => this.#stats.skip(reason),
  };

  constructor(stamp: PointStamp, host: SparkplugHost, stats: SparkplugStats, limits: PointLimits = DEFAULT_LIMITS) {
    this.#stamp = stamp;
    this.#host = host;
    this.#stats = stats;
    this.#limits = limits;
  }

  decode(payload: Buffer, captures: Captures, arrivalUs: number, topic = ''): Decoded | Rejected {
    const t = parseSparkplugTopic(topic);
    if (t.kind === 'state' || (t.kind !== 'invalid' && (t.type === 'NCMD' || t.type === 'DCMD'))) return IGNORED;
    if (t.kind === 'invalid') return rejected('bad_sparkplug', t.error);
    const p = decodePayload(payload);
    if ('error' in p) return rejected('bad_sparkplug', `payload is not Sparkplug B protobuf: ${p.error}`);
    const payloadUs = has(p, 'timestamp') ? toUs(p.timestamp!) : arrivalUs;
    if (payloadUs === undefined) return rejected('bad_time', `payload timestamp ${uint64(p.timestamp!)} ms is not a time`);

    const stamp = this.#stamp;
    const measurement = stamp.measurement(captures);
    if (measurement === '') return rejected('bad_name', 'measurement is empty or cannot be written as line protocol');
    const tagError = stamp.prepareTags(captures);
    if (tagError !== undefined) return rejected('bad_name', tagError);
    const path = t.kind === 'device' ? `${t.group}/${t.node}/${t.device}` : `${t.group}/${t.node}`;
    if (!isWritableName(path) || overBytes(path, this.#limits.maxNameBytes)) {
      return rejected('bad_name', `Sparkplug ids "${path.slice(0, 64)}" cannot be written as tag values`);
    }

    const outcome = this.#host.handle(t, p);
    if (outcome.kind === 'ignored') return IGNORED;
    if (outcome.kind === 'rejected') return rejected(outcome.reason, outcome.detail);

    const base: (readonly [string, string])[] = [
      ['group', t.group],
      ['node', t.node],
      ['device', path],
    ];
    const groups = this.#groups(outcome.metrics, payloadUs);
    if (this.#tooMany)
      return rejected(
        'too_many_fields',
        `a point of this message would have more than ${this.#limits.maxFields} fields (a large DataSet?)`,
      );
    let lines = '';
    let points = 0;
    for (const g of groups.values()) {
      if (g.fields.size === 0) continue;
      const series = stamp.seriesWith(measurement, g.tags.length === 0 ? base : [...base, ...g.tags]);
      lines += `${points === 0 ? '' : '\n'}${series} ${fieldText(g.fields)} ${g.ts}`;
      points++;
    }
    for (const s of outcome.status) {
      const statusPath = s.device === undefined ? `${t.group}/${t.node}` : `${t.group}/${t.node}/${s.device}`;
      const line = statusLine(stamp, `${measurement}_status`, t.group, t.node, statusPath, s, arrivalUs);
      if (line === undefined) continue; // a device id that cannot be a tag value: its data was refused already
      lines += `${points === 0 ? '' : '\n'}${line}`;
      points++;
    }
    if (points === 0)
      return rejected(
        'no_fields',
        `${t.type}: no metric with a value that can be written (see edgebridge_sparkplug_metrics_skipped_total)`,
      );
    return { kind: 'decoded', lines, points };
  }

  #groups(metrics: readonly ResolvedMetric[], payloadUs: number): Map<string, Group> {
    const groups = new Map<string, Group>();
    this.#tooMany = false;
    const propertyTags = (tags: readonly (readonly [string, string])[]): (readonly [string, string])[] =>
      tags.filter(([, v]) => {
        if (isWritableName(v) && !overBytes(v, this.#limits.maxNameBytes)) return true;
        this.#stats.skip('bad_name');
        return false;
      });
    for (let i = 0; i < metrics.length; i++) {
      const r = metrics[i]!;
      const m = r.metric;
      if (m.is_null) {
        this.#stats.skip('null');
        continue;
      }
      let us = payloadUs;
      if (has(m, 'timestamp')) {
        const own = toUs(m.timestamp!);
        if (own === undefined) {
          this.#stats.skip('bad_time');
          continue;
        }
        us = own;
      }
      const tagKey = r.tags.length === 0 ? '' : JSON.stringify(r.tags);
      const key = `${us}\u0000${tagKey}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { ts: String(us), tags: r.tags.length === 0 ? r.tags : propertyTags(r.tags), fields: new Map() };
        groups.set(key, group);
      }
      this.#group = group;
      metricFields(r.name, r.datatype, m, this.#sink, this.#limits.maxStringBytes);
      if (this.#tooMany) break;
    }
    this.#group = undefined;
    return groups;
  }
}

/** Fields sorted by key (UTF-16 order, as LineBuilder writes them). */
function fieldText(fields: Map<string, string>): string {
  const keys = [...fields.keys()];
  if (keys.length > 1) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${escapeKey(keys[i]!)}=${fields.get(keys[i]!)!}`;
  return out;
}

function statusLine(
  stamp: PointStamp,
  measurement: string,
  group: string,
  node: string,
  path: string,
  s: StatusEvent,
  arrivalUs: number,
): string | undefined {
  if (!isWritableName(path)) return undefined;
  const series = stamp.seriesWith(measurement, [
    ['group', group],
    ['node', node],
    ['device', path],
  ]);
  const bdSeq = s.bdSeq === undefined ? '' : `,bdSeq=${s.bdSeq}u`;
  // The arrival time: a DEATH by last will carries the time the node connected, not the time it died.
  return `${series} ${bdSeq === '' ? '' : bdSeq.slice(1)}${bdSeq === '' ? '' : ','}event="${s.event}",online=${s.online ? 'T' : 'F'} ${arrivalUs}`;
}

/** Epoch ms on the wire → epoch µs, or undefined beyond what a point can carry. */
function toUs(ms: Uint64): number | undefined {
  const v = uint64(ms);
  if (typeof v !== 'number' || v * 1000 > MAX_US) return undefined;
  return v * 1000;
}
