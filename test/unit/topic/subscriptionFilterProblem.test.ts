import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTopicFilter, subscriptionFilterProblem } from '../../../src/topic/subscriptionFilterProblem.ts';

describe('subscription filters: the grammar config calls', () => {
  it('accepts MQTT filters, plain or shared', () => {
    for (const f of ['#', 'a/+/c', 'a//b', 'sensors/#', '$SYS/#', '$share/gw/sensors/+/x', '$share/g/#'])
      assert.equal(subscriptionFilterProblem(f), undefined, f);
  });

  it('says what was expected otherwise', () => {
    assert.match(subscriptionFilterProblem('a/#/b')!, /^an MQTT topic filter/);
    assert.match(subscriptionFilterProblem('a/b+')!, /^an MQTT topic filter/);
    assert.match(subscriptionFilterProblem('$share/gw/a#')!, /^\$share\/gw\/ followed by an MQTT topic filter/);
    assert.match(subscriptionFilterProblem('$share/gw')!, /^a shared subscription .*\(here no topic filter after the share group "gw"\)/);
    assert.equal(isTopicFilter(''), false);
    assert.equal(isTopicFilter('a\u0000'), false);
  });
});
