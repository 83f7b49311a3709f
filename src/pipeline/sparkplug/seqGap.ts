import type { NodeState } from './NodeState.ts';

/**
 * Checks a message's seq against the node's last (one count for the node and its devices, 0–255 wrapping) and
 * resynchronises the count on it: the detail of a gap (a message lost or out of order), or undefined when in
 * order, when the message has no seq, or for the first message after a restart.
 */
export function seqGap(state: NodeState, seq: number | undefined, type: string): string | undefined {
  if (state.life.kind !== 'online' || seq === undefined) return undefined;
  const last = state.life.lastSeq;
  state.life.lastSeq = seq;
  if (last === undefined) return undefined;
  const expected = (last + 1) % 256;
  if (seq === expected) return undefined;
  const lost = (seq - expected + 256) % 256;
  return `${type} seq ${seq} after ${last} (expected ${expected}): ${lost} message(s) lost or out of order`;
}
