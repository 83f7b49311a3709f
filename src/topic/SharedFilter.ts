/**
 * MQTT shared subscriptions: `$share/<group>/<filter>` (MQTT 5 §4.8.2; Mosquitto also accepts it from 3.1.1
 * clients). The broker hands each message matching <filter> to one member of <group>, and delivers it under its
 * real topic, so routes and coverage checks work on <filter>. Parsed in one place so that the config check, the
 * route matcher and the coverage warning agree on what a shared filter is.
 */

export const SHARE_PREFIX = '$share/';

/** What a (possibly shared) subscription filter means. `group` is undefined for an ordinary filter. */
export interface SharedFilter {
  readonly group: string | undefined;
  /** The topic filter the broker matches topics against (the whole input when not shared). */
  readonly filter: string;
}

/** The shape, for error messages. */
export const SHARED_FILTER_EXPECTED =
  '`$share/<group>/<filter>`: a group name of at least one character without "/", "+" or "#", then "/" and a topic filter';

/**
 * Splits `$share/<group>/<filter>`. Throws RangeError (message: why) when the input starts with `$share` but is
 * not of that shape — the broker would refuse the subscription or, worse, take `$share` as a literal level.
 */
export function parseSharedFilter(topic: string): SharedFilter {
  if (topic !== '$share' && !topic.startsWith(SHARE_PREFIX)) return { group: undefined, filter: topic };
  const slash = topic.indexOf('/', SHARE_PREFIX.length);
  const group = slash === -1 ? topic.slice(SHARE_PREFIX.length) : topic.slice(SHARE_PREFIX.length, slash);
  if (group === '') throw new RangeError('the share group name is empty');
  if (/[+#]/.test(group)) throw new RangeError(`the share group name "${group}" contains "+" or "#"`);
  if (slash === -1 || slash === topic.length - 1) throw new RangeError(`no topic filter after the share group "${group}"`);
  return { group, filter: topic.slice(slash + 1) };
}

/** The filter without a `$share/<group>/` prefix; a malformed prefix is left alone (validation reports it). */
export function stripShare(topic: string): string {
  try {
    return parseSharedFilter(topic).filter;
  } catch {
    return topic;
  }
}
