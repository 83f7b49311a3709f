import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sentinelFailoverRun } from './support/sentinelFailoverRun.ts';

describe('Redis Sentinel failover with WAIT 1 (sinks.redis.waitReplicas = 1)', () => {
  it('SIGKILL of the master under QoS 1 load: a replica is promoted, writes resume, no sequence number is lost', async () => {
    const r = await sentinelFailoverRun(1, (line) => console.log(line));
    assert.notEqual(r.newMasterPort, r.oldMasterPort);
    assert.deepEqual(r.lost, [], 'every acknowledged batch was on a replica before the spool moved on');
    assert.equal(r.rejected, 0);
  });
});
