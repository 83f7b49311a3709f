/**
 * A subscription filter as one connection of a group subscribes it: `$share/<group>/<filter>`, so that the broker
 * hands each message to one connection of the group. A filter that already names a share group (several gateway
 * instances in one group, docs/scale-out.md) is kept as it is: its connections join that group.
 */
export function sharedTopic(topic: string, group: string): string {
  return topic.startsWith('$share/') ? topic : `$share/${group}/${topic}`;
}
