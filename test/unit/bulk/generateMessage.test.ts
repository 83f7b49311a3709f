import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoutes } from '../../../src/route/parseRoutes.ts';
import { Router } from '../../../src/pipeline/Router.ts';
import { BULK_ROUTES, CASE_NAMES, generateMessage, MAX_PAYLOAD_BYTES, type Expectation } from '../../../scripts/bulk/generateMessage.ts';

/**
 * The bulk run's generator, checked against the real Router in-process: every message's expected outcome (points
 * per sink, rejection reason, unrouted) is what the gateway's pipeline makes of it. A mismatch here is a generator
 * bug or a pipeline bug; the bulk run itself then checks the same through a real broker, gateway and sinks.
 */
describe('bulk message generator', () => {
  const router = new Router({
    routes: parseRoutes(BULK_ROUTES),
    sinkNames: ['influx', 'redis'],
    gatewayId: 'bulk',
    gatewayTag: true,
    maxPayloadBytes: MAX_PAYLOAD_BYTES,
  });

  function outcome(topic: string, payload: Buffer): Expectation {
    const r = router.route(topic, payload, Date.now());
    if (r.kind === 'ok') {
      return { kind: 'ok', influx: r.entry.sinks & 1 ? r.entry.points : 0, redis: r.entry.sinks & 2 ? r.entry.points : 0 };
    }
    return r.kind === 'rejected' ? { kind: 'rejected', reason: r.reason } : { kind: 'unrouted' };
  }

  it('predicts what the router makes of each of 30 000 messages, and covers every case', () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const m = generateMessage(7, i);
      seen.set(m.kase, (seen.get(m.kase) ?? 0) + 1);
      const actual = outcome(m.topic, m.payload);
      assert.deepEqual(
        actual,
        m.expect,
        `message ${i} (${m.kase}) on ${JSON.stringify(m.topic)}: ${JSON.stringify(m.payload.toString('utf8').slice(0, 300))}`,
      );
    }
    for (const name of [...CASE_NAMES, 'json_redis_only']) assert.ok((seen.get(name) ?? 0) > 0, `case ${name} generated`);
  });

  it('is reproducible: the same seed and index give the same message', () => {
    for (const i of [0, 1, 999, 123_456]) {
      const a = generateMessage(42, i);
      const b = generateMessage(42, i);
      assert.equal(a.topic, b.topic);
      assert.ok(a.payload.equals(b.payload));
    }
    assert.notDeepEqual(generateMessage(1, 5).payload, generateMessage(2, 5).payload);
  });
});
