import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SentinelTlsDiagnosis } from '../../../src/sinks/redis/SentinelTlsDiagnosis.ts';
import { freePort } from '../../harness/freePort.ts';
import { waitFor } from '../../harness/waitFor.ts';

const UNREACHABLE = new Error('All sentinels are unreachable. Retrying from scratch after 250ms. Last error: Connection is closed.');

describe('SentinelTlsDiagnosis', () => {
  it('probes only for "All sentinels are unreachable", hands back the handshake error, at most every 30 s, forgets on reset', async () => {
    const port = await freePort(); // nothing listens: the handshake fails at once
    let now = 0;
    const found: Error[] = [];
    const d = new SentinelTlsDiagnosis({
      sentinels: [{ host: '127.0.0.1', port }],
      tls: {},
      onFound: (e) => found.push(e),
      now: () => now,
    });
    const other = new Error('connect ECONNREFUSED');
    assert.equal(d.explain(other), other, 'other errors pass through, no probe');
    assert.equal(d.explain(UNREACHABLE), UNREACHABLE, 'the first time: the probe has only started');
    await waitFor(() => found.length === 1, { message: 'the probe never reported' });
    assert.match(found[0]!.message, /ECONNREFUSED/);
    assert.equal(d.explain(UNREACHABLE), found[0], 'then the handshake error stands in for it');
    now += 10_000;
    d.explain(UNREACHABLE);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(found.length, 1, 'no second probe within 30 s');
    now += 30_000;
    d.explain(UNREACHABLE);
    await waitFor(() => found.length === 2, { message: 'not probed again after 30 s' });
    d.reset();
    assert.equal(d.explain(UNREACHABLE), UNREACHABLE, 'connected since: the old cause is forgotten');
  });
});
