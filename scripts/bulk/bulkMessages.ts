/**
 * The bulk run's message generator for the publisher fleet (test/harness/fleet): child `index` of `children`
 * publishes the messages `i ≡ index (mod children)` of the seeded run and tallies what each should become.
 */
import { fileURLToPath } from 'node:url';
import type { FleetChild, MessageGenerator } from '../../test/harness/fleet/MessageGenerator.ts';
import { generateMessage } from './generateMessage.ts';
import { count, emptyTally } from './Tally.ts';

export const BULK_MESSAGES = fileURLToPath(import.meta.url);

export function createGenerator(options: unknown, child: FleetChild): MessageGenerator {
  const { seed } = options as { seed: number };
  const expected = emptyTally();
  return {
    next(n) {
      const m = generateMessage(seed, child.index + n * child.children);
      count(expected, m.kase, m.expect);
      return m;
    },
    summary: () => expected,
  };
}
