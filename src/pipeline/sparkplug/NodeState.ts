import type { MetricDef, NodeRecord } from './SparkplugStore.ts';

/** A BIRTH's metric definitions, indexed by alias and by name. */
export interface Scope {
  readonly defs: readonly MetricDef[];
  readonly byAlias: Map<number | string, MetricDef>;
  readonly byName: Map<string, MetricDef>;
}

/** A node's life: `online` with the last seq seen (undefined after a restart until the first message), or `offline`. */
export type NodeLife = { readonly kind: 'online'; lastSeq: number | undefined } | { readonly kind: 'offline' };

export interface DeviceState {
  online: boolean;
  scope: Scope;
}

/** What the host knows of one edge node: its last NBIRTH's aliases and bdSeq, its devices, its seq. */
export interface NodeState {
  readonly group: string;
  readonly node: string;
  bdSeq: string | undefined;
  life: NodeLife;
  scope: Scope;
  readonly devices: Map<string, DeviceState>;
  /** When the last Rebirth request went out (epoch ms), for the rate limit. */
  rebirthAt: number;
}

const EMPTY_SCOPE: Scope = { defs: [], byAlias: new Map(), byName: new Map() };

export function nodeKey(group: string, node: string): string {
  return `${group}\u0000${node}`;
}

export function scopeOf(defs: readonly MetricDef[]): Scope {
  if (defs.length === 0) return EMPTY_SCOPE;
  const byAlias = new Map<number | string, MetricDef>();
  const byName = new Map<string, MetricDef>();
  for (const d of defs) {
    if (d[0] !== null) byAlias.set(d[0], d);
    byName.set(d[1], d);
  }
  return { defs, byAlias, byName };
}

/** A node's state as kept across restarts (the seq count and the rebirth time are not kept). */
export function recordOf(state: NodeState): NodeRecord {
  const devices: Record<string, { online: boolean; metrics: readonly MetricDef[] }> = {};
  for (const [id, d] of state.devices) devices[id] = { online: d.online, metrics: d.scope.defs };
  return {
    group: state.group,
    node: state.node,
    bdSeq: state.bdSeq,
    online: state.life.kind === 'online',
    metrics: state.scope.defs,
    devices,
  };
}

/** A kept record back as state: online nodes count seq from the first message after the start. */
export function stateOf(r: NodeRecord): NodeState {
  return {
    group: r.group,
    node: r.node,
    bdSeq: r.bdSeq,
    life: r.online ? { kind: 'online', lastSeq: undefined } : { kind: 'offline' },
    scope: scopeOf(r.metrics),
    devices: new Map(Object.entries(r.devices ?? {}).map(([id, d]) => [id, { online: d.online, scope: scopeOf(d.metrics) }])),
    rebirthAt: Number.NEGATIVE_INFINITY,
  };
}
