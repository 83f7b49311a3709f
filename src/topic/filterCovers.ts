import { stripShare } from './SharedFilter.ts';

/**
 * Whether every topic matching MQTT filter `filter` is also matched by subscription `subscription`
 * (both may hold `+` and `#`; a leading `$share/<group>/` is ignored). Used to warn about routes that no
 * subscription feeds.
 */
export function filterCovers(subscription: string, filter: string): boolean {
  const s = stripShare(subscription).split('/');
  const f = stripShare(filter).split('/');
  for (let i = 0; i < s.length; i++) {
    const level = s[i]!;
    if (level === '#') return true;
    if (i >= f.length) return false;
    const other = f[i]!;
    if (other === '#') return false;
    if (level === '+') continue;
    if (other === '+' || other !== level) return false;
  }
  return s.length === f.length;
}
