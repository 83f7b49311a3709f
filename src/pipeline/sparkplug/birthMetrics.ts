import { has, type Metric, type Payload, type PropertyValue, uint64 } from '../../sparkplug/SparkplugCodec.ts';
import { type HostOutcome, type ResolvedMetric, rejected } from './HostOutcome.ts';
import { aliasKey } from './metricFields.ts';
import type { Scope } from './NodeState.ts';
import type { MetricDef } from './SparkplugStore.ts';

/** Metrics one BIRTH may declare; more is refused (`too_many_fields`): the alias map is kept in memory and on disk. */
export const MAX_BIRTH_METRICS = 10_000;

/** The metric definitions of a BIRTH, or why it is refused. */
export function birthDefs(payload: Payload, type: string, propertyKeys: readonly string[]): MetricDef[] | HostOutcome {
  const metrics = payload.metrics;
  if (metrics.length > MAX_BIRTH_METRICS)
    return rejected('too_many_fields', `${type} declares ${metrics.length} metrics > ${MAX_BIRTH_METRICS}`);
  const defs: MetricDef[] = [];
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i]!;
    if (!has(m, 'name') || m.name === '') return rejected('bad_sparkplug', `${type} metric ${i} has no name`);
    if (!has(m, 'datatype')) return rejected('bad_sparkplug', `${type} metric "${m.name!.slice(0, 64)}" has no datatype`);
    const tags = propertyTags(m, propertyKeys) ?? [];
    defs.push([has(m, 'alias') ? aliasKey(m.alias!) : null, m.name!, m.datatype!, tags]);
  }
  return defs;
}

/** A BIRTH's metrics with their own names and datatypes (checked by birthDefs), and the tags of its scope. */
export function resolveBirth(metrics: readonly Metric[], scope: Scope): ResolvedMetric[] {
  return metrics.map((m) => {
    const def = scope.byName.get(m.name!)!;
    return { name: def[1], datatype: def[2], metric: m, tags: def[3] };
  });
}

/**
 * A DATA message's metrics resolved by alias (or by name, for nodes that send no aliases) against the BIRTH's
 * scope; or, for the first metric the BIRTH did not declare, its index and what it was.
 */
export function resolveData(
  metrics: readonly Metric[],
  scope: Scope,
  propertyKeys: readonly string[],
): ResolvedMetric[] | { readonly index: number; readonly which: string } {
  const out: ResolvedMetric[] = [];
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i]!;
    let def: MetricDef | undefined;
    if (has(m, 'alias')) def = scope.byAlias.get(aliasKey(m.alias!));
    else if (m.name !== '') def = scope.byName.get(m.name!);
    if (def === undefined) {
      const which = has(m, 'alias')
        ? `alias ${aliasKey(m.alias!)}`
        : m.name === ''
          ? 'a metric with neither alias nor name'
          : `name "${m.name!.slice(0, 64)}"`;
      return { index: i, which };
    }
    out.push({
      name: def[1],
      datatype: has(m, 'datatype') ? m.datatype! : def[2],
      metric: m,
      tags: propertyTags(m, propertyKeys) ?? def[3],
    });
  }
  return out;
}

/** The bdSeq metric's value as decimal text (Int64 or UInt64 on the wire; some peers send an int_value). */
export function bdSeqOf(payload: Payload): string | undefined {
  const m = payload.metrics.find((x) => x.name === 'bdSeq');
  if (m === undefined) return undefined;
  if (has(m, 'long_value')) return String(uint64(m.long_value!));
  if (has(m, 'int_value')) return String(m.int_value);
  return undefined;
}

/** The configured property keys of a metric as tags; undefined when the metric carries no properties. */
function propertyTags(m: Metric, keys: readonly string[]): (readonly [string, string])[] | undefined {
  if (!has(m, 'properties') || keys.length === 0) return undefined;
  const props = m.properties!;
  const tags: (readonly [string, string])[] = [];
  for (let i = 0; i < props.keys.length; i++) {
    const key = props.keys[i]!;
    if (!keys.includes(key)) continue;
    const text = propertyText(props.values[i]);
    if (text !== undefined && text !== '') tags.push([key, text]);
  }
  return tags;
}

function propertyText(v: PropertyValue | undefined): string | undefined {
  if (v === undefined || v.is_null) return undefined;
  if (has(v, 'string_value')) return v.string_value;
  if (has(v, 'int_value')) return String(v.int_value);
  if (has(v, 'long_value')) return String(uint64(v.long_value!));
  if (has(v, 'float_value')) return String(v.float_value);
  if (has(v, 'double_value')) return String(v.double_value);
  if (has(v, 'boolean_value')) return String(v.boolean_value);
  return undefined;
}
