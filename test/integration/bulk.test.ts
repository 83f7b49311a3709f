import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runBulk } from '../../scripts/bulk.ts';

/**
 * The short bulk run: 20 000 seeded random device messages (valid, malformed, oversize, binary, unrouted, bad names,
 * bad times, too deep…) through a real Mosquitto, the built gateway, Redis and VictoriaMetrics. Every counter must
 * match the generator's expectation exactly. The full run is `npm run bulk` (1 000 000 messages).
 */
describe('bulk run (short)', () => {
  it('accounts for every one of 20 000 random messages, exactly', { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    const result = await runBulk({ messages: 20_000, seed: 20_251, log: (l) => lines.push(l) });
    const failed = result.checks.filter((c) => !c.ok);
    assert.deepEqual(failed, [], `${result.table}\n${lines.join('\n')}`);
    assert.ok(result.ok);
    // The mix really covers every outcome.
    assert.equal(result.status.received, 20_000);
    for (const [reason, n] of Object.entries(result.expected.rejectedByReason)) {
      // internal_error is a bug's reason (an exception at the message boundary): no input is meant to produce it.
      // The Sparkplug reasons belong to `sparkplug` routes, which the bulk run has none of (its fuzz and
      // integration tests: test/unit/pipeline/sparkplug/, test/integration/sparkplug.test.ts).
      // missing_property belongs to routes that read MQTT 5 properties (test/integration/mqtt5Properties.test.ts).
      if (reason === 'internal_error' || reason === 'bad_sparkplug' || reason.startsWith('sparkplug_') || reason === 'missing_property')
        assert.equal(n, 0);
      else assert.ok(n > 0, `no ${reason} generated`);
    }
    assert.equal(result.status.rejectedByReason.internal_error ?? 0, 0, 'no message made the gateway throw');
    assert.ok(
      result.expected.unrouted > 0 && result.expected.points.influx > 0 && result.expected.points.redis > result.expected.points.influx,
    );
    assert.equal(result.gatewayExit.code, 0);
  });
});
