import { escapeKey } from '../../lineprotocol/escape.ts';
import { isWritableName } from '../../lineprotocol/isWritableName.ts';
import { decodePayload, has, uint64, type Uint64 } from '../../sparkplug/SparkplugCodec.ts';
import { parseSparkplugTopic } from '../../topic/SparkplugTopic.ts';
import type { Captures } from '../../topic/TopicPattern.ts';
import { type Decoded, type Decoder, type Rejected, rejected } from '../Decoder.ts';
import { DEFAULT_LIMITS, overBytes, type PointLimits } from '../PointLimits.ts';
import type { PointStamp } from '../PointStamp.ts';
import { type FieldSink, metricFields, type SkipReason } from './metricFields.ts';
import type { ResolvedMetric, StatusEvent } from './HostOutcome.ts';
import type { SparkplugHost } from './SparkplugHost.ts';
import type { SparkplugStats } from './SparkplugStats.ts';

/** Commands (NCMD/DCMD) and host STATE messages are not data: the router counts them as unrouted. */
const IGNORED: Decoded = Object.freeze({ kind: 'decoded', lines: '', points: 0 });

/** Epoch µs past which a timestamp is refused (year 2255, as parseTime: beyond it µs are not exact doubles). */
const MAX_US = 2 ** 53;

type Tags = readonly (readonly [string, string])[];

/** The fields of one point being built: one per distinct timestamp and property tags of a message. */
interface Group {
  readonly ts: string;
  readonly tags: Tags;
  readonly tagKey: string;
  readonly fields: Map<string, string>;
}

/** A BIRTH's property tags as a grouping key, and those that can be written (one entry per BIRTH metric's tag list). */
interface TagInfo {
  readonly key: string;
  readonly writable: Tags;
}

/** Series prefixes and escaped field keys kept ready; beyond this many each cache starts over. */
const MAX_CACHED = 10_000;
const NO_TAGS: TagInfo = { key: '', writable: [] };

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
  /** Device path, property tags and captures → series prefix: per message a Map lookup, not an escape and a sort. */
  readonly #series = new Map<string, string>();
  readonly #escaped = new Map<string, string>();
  readonly #tagInfo = new WeakMap<Tags, TagInfo>();
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

    const groups = this.#groups(outcome.metrics, payloadUs);
    if (this.#tooMany) {
      return rejected(
        'too_many_fields',
        `a point of this message would have more than ${this.#limits.maxFields} fields (a large DataSet?)`,
      );
    }
    let lines = '';
    let points = 0;
    const captureKey = captures.length === 0 ? '' : captures.join('\u0000');
    for (const g of groups.values()) {
      if (g.fields.size === 0) continue;
      const key = `${path}\u0001${g.tagKey}\u0001${captureKey}\u0001${measurement}`;
      let series = this.#series.get(key);
      if (series === undefined) {
        if (this.#series.size >= MAX_CACHED) this.#series.clear();
        series = stamp.seriesWith(measurement, [['group', t.group], ['node', t.node], ['device', path], ...g.tags]);
        this.#series.set(key, series);
      }
      lines += `${points === 0 ? '' : '\n'}${series} ${this.#fieldText(g.fields)} ${g.ts}`;
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

  #groups(metrics: readonly ResolvedMetric[], payloadUs: number): Map<string | number, Group> {
    const groups = new Map<string | number, Group>();
    this.#tooMany = false;
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
      const info = r.tags.length === 0 ? NO_TAGS : this.#tags(r.tags);
      const key = info.key === '' ? us : `${us}\u0000${info.key}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { ts: String(us), tags: info.writable, tagKey: info.key, fields: new Map() };
        groups.set(key, group);
      }
      this.#group = group;
      metricFields(r.name, r.datatype, m, this.#sink, this.#limits.maxStringBytes);
      if (this.#tooMany) break;
    }
    this.#group = undefined;
    return groups;
  }

  /** A tag list's key and writable part, once per BIRTH metric (the lists come from the alias map, by identity). */
  #tags(tags: Tags): TagInfo {
    let info = this.#tagInfo.get(tags);
    if (info === undefined) {
      const writable = tags.filter(([, v]) => {
        if (isWritableName(v) && !overBytes(v, this.#limits.maxNameBytes)) return true;
        this.#stats.skip('bad_name');
        return false;
      });
      info = { key: JSON.stringify(writable), writable };
      this.#tagInfo.set(tags, info);
    }
    return info;
  }

  /** Fields sorted by key (UTF-16 order, as LineBuilder writes them), keys escaped once and cached. */
  #fieldText(fields: Map<string, string>): string {
    const keys = [...fields.keys()];
    if (keys.length > 1) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const cache = this.#escaped;
    let out = '';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      let e = cache.get(k);
      if (e === undefined) {
        if (cache.size >= MAX_CACHED) cache.clear();
        e = escapeKey(k);
        cache.set(k, e);
      }
      out += `${i === 0 ? '' : ','}${e}=${fields.get(k)!}`;
    }
    return out;
  }
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
