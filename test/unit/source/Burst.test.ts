import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Burst } from '../../../src/source/Burst.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';

/** A shared spool whose `flush` reports a discard to its first caller only, as the disk spool's does. */
function sharedSpool() {
  const spool = {
    discards: 0,
    unreported: false,
    discard() {
      this.discards++;
      this.unreported = true;
    },
    flush() {
      const written = !this.unreported;
      this.unreported = false;
      return written;
    },
  };
  return spool;
}

function stream() {
  const s = { corked: 0, uncorked: 0, destroyed: false };
  return Object.assign(s, {
    cork: () => void s.corked++,
    uncork: () => void s.uncorked++,
    destroy: () => void (s.destroyed = true),
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a discard while two connections have bursts open drops both connections, not only the first to flush', async () => {
  const spool = sharedSpool();
  const options = { spool: spool as unknown as Spool, stats: new SourceStats(), logger: pino({ level: 'silent' }) };
  const a = new Burst(options);
  const b = new Burst(options);
  const sa = stream();
  const sb = stream();
  a.join(sa as never, true);
  b.join(sb as never, true);
  spool.discard(); // the pending records of both bursts could not be written
  await turn();
  assert.equal(sa.destroyed, true, 'the connection whose flush saw the discard');
  assert.equal(sb.destroyed, true, 'and the other one, whose flush no longer reports it');
  assert.equal(sb.uncorked, 0, 'no PUBACK of the unwritten burst left');
  assert.equal(options.stats.burstsUnwritten, 2);
});

test('a burst opened after a discard is not dropped for it', async () => {
  const spool = sharedSpool();
  const options = { spool: spool as unknown as Spool, stats: new SourceStats(), logger: pino({ level: 'silent' }) };
  const a = new Burst(options);
  spool.discard();
  spool.flush(); // reported to an earlier burst
  const sa = stream();
  a.join(sa as never, true);
  await turn();
  assert.equal(sa.destroyed, false);
  assert.equal(sa.uncorked, 1);
});
