import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../../scripts/chaos.ts';
import type { AckMode } from '../../scripts/chaos.ts';

/**
 * The short chaos run: 4 000 sequenced QoS 1 messages while the gateway and Redis are SIGKILLed and VictoriaMetrics
 * and Mosquitto are SIGTERMed once each (serialized, seeded schedule). Nothing the broker acknowledged may be
 * missing from either sink. The full run is `npm run chaos`.
 */
// The two runs share nothing (each its own servers, gateway and dirs) and mostly wait on the fault schedule: side by side.
describe('chaos (short)', { concurrency: true }, () => {
  for (const ack of ['write', 'fsync'] as AckMode[]) {
    it(`ack=${ack}: every seq lands in InfluxDB and Redis despite a kill/restart of each component`, { timeout: 60_000 }, async (t) => {
      const result = await runChaos({
        messages: 4000,
        devices: 20,
        ack,
        faultsEach: 1,
        publishers: 2,
        ratePerSecond: 250,
        seed: 7,
        drainTimeoutMs: 20_000,
        log: (line) => t.diagnostic(line),
      });
      t.diagnostic(result.summary);
      assert.equal(result.faults.length, 4, `faults: ${JSON.stringify(result.faults)}`);
      assert.equal(result.sent, 4000, result.summary);
      assert.equal(result.influx.lost, 0, `${result.summary}\n${result.lossReport.join('\n')}`);
      assert.equal(result.redis.lost, 0, `${result.summary}\n${result.lossReport.join('\n')}`);
      assert.ok(result.ok, result.summary);
    });
  }
});
