/** The verdict on one power cut: acknowledged by the gateway vs by the broker, and the ack=write window. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACKED, type PublishShared } from '../../../scripts/chaos/SequencedPublisher.ts';
import { type CutInput, judgeCut } from '../../../scripts/powercut/judgeCut.ts';

function input(ack: 'fsync' | 'write', landed: number[]): CutInput {
  const n = 10;
  const shared: PublishShared = {
    n,
    devices: 2,
    state: new Uint8Array(n),
    ts: new Float64Array(n),
    ackedAt: new Float64Array(n),
    t0: 0,
    publishes: 0,
    resends: 0,
    acked: 0,
  };
  for (let s = 0; s < 8; s++) shared.state[s] = ACKED; // 8 and 9 were in flight at the cut
  // The gateway acknowledged 0..5 at t = 1000 + 100·seq; 6 only after the cut (redelivered at the next boot).
  const gatewayAckedAt = new Map<number, number>([0, 1, 2, 3, 4, 5].map((s) => [s, 1000 + 100 * s]));
  gatewayAckedAt.set(6, 5000);
  return { from: 0, to: n, cutAt: 1600, shared, gatewayAckedAt, landed: new Set(landed), ack, writeWindowMs: 300 };
}

test('nothing the gateway acknowledged lost: ack=fsync passes; the broker-only losses are counted apart', () => {
  const c = judgeCut(input('fsync', [0, 1, 2, 3, 4, 5, 9]));
  assert.deepEqual(c, { publisherAcked: 8, gatewayAcked: 6, lostGatewayAcked: 0, lostAgeMs: null, lostAtBroker: 2, problems: [] });
});

test('ack=fsync: any acknowledged loss fails', () => {
  const c = judgeCut(input('fsync', [0, 1, 2, 3, 4]));
  assert.equal(c.lostGatewayAcked, 1);
  assert.deepEqual(c.lostAgeMs, { min: 100, max: 100 });
  assert.match(c.problems[0]!, /ack=fsync lost 1/);
});

test('ack=write: losses younger than the window pass, an older one fails', () => {
  assert.deepEqual(judgeCut(input('write', [0, 1, 2, 3])).problems, []);
  const c = judgeCut(input('write', [0, 1]));
  assert.deepEqual(c.lostAgeMs, { min: 100, max: 400 });
  assert.match(c.problems[0]!, /acknowledged 400 ms before the cut \(window 300 ms\)/);
});
