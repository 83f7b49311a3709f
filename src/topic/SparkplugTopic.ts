/**
 * The Sparkplug B topic namespace (Sparkplug 3.0.0, 4.1 "Topic Namespace Elements"):
 * `spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]`, and `spBv1.0/STATE/<host_id>` for host
 * applications. Node messages have four levels, device messages five; ids are single levels (no `/`, `+`, `#`).
 */
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export const NODE_TYPES = ['NBIRTH', 'NDATA', 'NDEATH', 'NCMD'] as const;
export const DEVICE_TYPES = ['DBIRTH', 'DDATA', 'DDEATH', 'DCMD'] as const;
export type NodeMessageType = (typeof NODE_TYPES)[number];
export type DeviceMessageType = (typeof DEVICE_TYPES)[number];

export type SparkplugTopic =
  | { readonly kind: 'node'; readonly type: NodeMessageType; readonly group: string; readonly node: string }
  | { readonly kind: 'device'; readonly type: DeviceMessageType; readonly group: string; readonly node: string; readonly device: string }
  | { readonly kind: 'state'; readonly host: string }
  | { readonly kind: 'invalid'; readonly error: string };

/** Reads a topic of the Sparkplug namespace; anything else is `invalid` with the reason. */
export function parseSparkplugTopic(topic: string): SparkplugTopic {
  const levels = topic.split('/');
  if (levels[0] !== SPARKPLUG_NAMESPACE) return { kind: 'invalid', error: `topic does not start with ${SPARKPLUG_NAMESPACE}/` };
  if (levels[1] === 'STATE' && levels.length === 3 && levels[2] !== '') return { kind: 'state', host: levels[2]! };
  if (levels.length < 4 || levels.length > 5) {
    return {
      kind: 'invalid',
      error: `a Sparkplug topic has 4 or 5 levels (${SPARKPLUG_NAMESPACE}/group/type/node[/device]), this one ${levels.length}`,
    };
  }
  const [, group, type, node, device] = levels as [string, string, string, string, string | undefined];
  for (const [what, id] of [
    ['group_id', group],
    ['edge_node_id', node],
    ['device_id', device],
  ] as const) {
    if (id === '') return { kind: 'invalid', error: `${what} is empty` };
  }
  if (device === undefined) {
    if (!(NODE_TYPES as readonly string[]).includes(type)) {
      return { kind: 'invalid', error: `"${type.slice(0, 32)}" is not a node message type (${NODE_TYPES.join(', ')})` };
    }
    return { kind: 'node', type: type as NodeMessageType, group, node };
  }
  if (!(DEVICE_TYPES as readonly string[]).includes(type)) {
    return { kind: 'invalid', error: `"${type.slice(0, 32)}" is not a device message type (${DEVICE_TYPES.join(', ')})` };
  }
  return { kind: 'device', type: type as DeviceMessageType, group, node, device };
}

/** `spBv1.0/<group>/NCMD/<node>`: where a Rebirth request for that node goes. */
export function nodeCommandTopic(group: string, node: string): string {
  return `${SPARKPLUG_NAMESPACE}/${group}/NCMD/${node}`;
}
