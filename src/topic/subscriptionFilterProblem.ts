import { parseSharedFilter, SHARE_PREFIX, SHARED_FILTER_EXPECTED } from './SharedFilter.ts';

/** The shape of a topic filter, for error messages. */
export const TOPIC_FILTER_EXPECTED = 'an MQTT topic filter (`+`/`#` only as whole levels, `#` last)';

/** MQTT topic filter: not empty, no U+0000, `+` and `#` only as whole levels, `#` only last. */
export function isTopicFilter(topic: string): boolean {
  if (topic === '' || topic.includes('\u0000')) return false;
  const levels = topic.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/**
 * What a subscription filter (ordinary, or shared as `$share/<group>/<filter>`) should have been, as an
 * "expected …" phrase for the config error; undefined when it is a valid one. The broker refuses the others.
 */
export function subscriptionFilterProblem(topic: string): string | undefined {
  let shared: ReturnType<typeof parseSharedFilter>;
  try {
    shared = parseSharedFilter(topic);
  } catch (error) {
    return `a shared subscription ${SHARED_FILTER_EXPECTED} (here ${(error as Error).message})`;
  }
  if (isTopicFilter(shared.filter)) return undefined;
  return shared.group === undefined ? TOPIC_FILTER_EXPECTED : `${SHARE_PREFIX}${shared.group}/ followed by ${TOPIC_FILTER_EXPECTED}`;
}
