import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../../src/route/Route.ts';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { FormatError } from '../../../src/errors/FormatError.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { parseRoutes } from '../../../src/route/parseRoutes.ts';
import { Router } from '../../../src/pipeline/Router.ts';
import type { RouteResult } from '../../../src/pipeline/RouteResult.ts';
import type { MessageProperties } from '../../../src/topic/MessageProperty.ts';

/** MQTT 5 properties in routes (issue 14, item 3): `{$user.NAME}`, `{$contentType}`, `timeField: "$user.NAME"`. */

const RECEIVED = 1732240000000; // ms
const ARRIVAL_US = '1732240000000000';

function router(routes: readonly Partial<RouteConfig>[], maxNameBytes?: number): Router {
  return new Router({
    routes: parseRoutes(routes),
    sinkNames: ['influx'],
    gatewayId: 'gw1',
    gatewayTag: true,
    maxPayloadBytes: 4096,
    ...(maxNameBytes === undefined ? {} : { limits: { maxFields: 100, maxNameBytes, maxStringBytes: 100, maxTopicBytes: 100 } }),
  });
}

function send(r: Router, topic: string, payload: string, properties?: MessageProperties): RouteResult {
  return r.route(topic, Buffer.from(payload), RECEIVED, properties);
}

function lines(result: RouteResult): string {
  if (result.kind !== 'ok') assert.fail(`expected ok, got ${JSON.stringify(result)}`);
  return result.entry.lines;
}

function rejection(result: RouteResult): [string, string] {
  if (result.kind !== 'rejected') assert.fail(`expected rejected, got ${JSON.stringify(result)}`);
  return [result.reason, result.detail];
}

const PLANT: Partial<RouteConfig> = {
  topic: 'plant/{device}',
  measurement: '{$user.kind}',
  tags: { device: '{device}', site: '{$user.site}', type: '{$contentType}' },
  timeField: '$user.ts',
  timeUnit: 'ms',
};

describe('routes with MQTT 5 properties', () => {
  it('user properties and the content type become tags, the measurement and the time', () => {
    const r = router([PLANT]);
    const props = { contentType: 'application/json', userProperties: { kind: 'climate', site: 'hall1', ts: '1700000000123' } };
    assert.equal(
      lines(send(r, 'plant/d1', '{"t":21.5}', props)),
      'climate,device=d1,gateway=gw1,site=hall1,type=application/json t=21.5 1700000000123000',
    );
    assert.equal(r.usesProperties, true);
  });

  it('a tag whose property is absent (or empty) is left out; a missing measurement property rejects as missing_property', () => {
    const r = router([{ ...PLANT, tags: { site: 'site-{$user.site}', line: '{$user.line}' } }]);
    assert.equal(lines(send(r, 'plant/d1', '{"t":1}', { userProperties: { kind: 'k', line: '' } })), `k,gateway=gw1 t=1 ${ARRIVAL_US}`);
    assert.equal(
      lines(send(r, 'plant/d1', '{"t":1}', { userProperties: { kind: 'k', site: 'a' } })),
      `k,gateway=gw1,site=site-a t=1 ${ARRIVAL_US}`,
    );
    for (const props of [undefined, {}, { userProperties: { kind: '' } }, { contentType: 'x' }]) {
      const [reason, detail] = rejection(send(r, 'plant/d1', '{"t":1}', props));
      assert.equal(reason, 'missing_property');
      assert.match(detail, /measurement "\{\$user\.kind\}" needs user property "kind", which the message does not carry/);
    }
  });

  it('a repeated user property key reads as its last value', () => {
    const r = router([PLANT]);
    const props = { userProperties: { kind: ['a', 'b'], site: ['s1', 's2', 's3'] } };
    assert.equal(lines(send(r, 'plant/d1', '{"t":1}', props)), `b,device=d1,gateway=gw1,site=s3 t=1 ${ARRIVAL_US}`);
  });

  it('values a tag or measurement cannot hold are refused as for topic levels: bad_name, too_long; a bad time is bad_time', () => {
    const r = router([PLANT], 16);
    const bad = (userProperties: Record<string, string>) => rejection(send(r, 'plant/d1', '{"t":1}', { userProperties }));
    assert.deepEqual(bad({ kind: 'k', site: 'a\nb' }), ['bad_name', 'tag "site" value "a\nb" cannot be written as line protocol']);
    assert.equal(bad({ kind: '#k' })[0], 'bad_name');
    assert.deepEqual(bad({ kind: 'k', site: 'x'.repeat(17) }), ['too_long', 'user property "site" is longer than 16 bytes']);
    assert.deepEqual(bad({ kind: 'k', ts: 'yesterday' }), ['bad_time', 'user property "ts" = "yesterday" is not a time (unit ms)']);
    // Commas, spaces and '=' are escaped, as in topic levels.
    assert.equal(
      lines(send(r, 'plant/d1', '{"t":1}', { userProperties: { kind: 'k', site: 'a b,c=d' } })),
      `k,device=d1,gateway=gw1,site=a\\ b\\,c\\=d t=1 ${ARRIVAL_US}`,
    );
  });

  it('an absent time property means the arrival time; timeUnit applies (auto, iso, s)', () => {
    assert.equal(
      lines(send(router([PLANT]), 'plant/d1', '{"t":1}', { userProperties: { kind: 'k' } })),
      `k,device=d1,gateway=gw1 t=1 ${ARRIVAL_US}`,
    );
    const at = (timeUnit: RouteConfig['timeUnit'], ts: string) =>
      lines(send(router([{ ...PLANT, tags: {}, timeUnit }]), 'plant/d1', '{"t":1}', { userProperties: { kind: 'k', ts } }));
    assert.equal(at('auto', '2025-01-15T12:00:00.5Z'), 'k,gateway=gw1 t=1 1736942400500000');
    assert.equal(at('s', '1700000000'), 'k,gateway=gw1 t=1 1700000000000000');
    assert.equal(at('auto', '1700000000000000'), 'k,gateway=gw1 t=1 1700000000000000');
  });

  it('the payload time field is not read when timeField is a property (a json "ts" stays a field)', () => {
    const r = router([{ ...PLANT, tags: {} }]);
    assert.equal(
      lines(send(r, 'plant/d1', '{"t":1,"ts":5}', { userProperties: { kind: 'k', ts: '1700000000000' } })),
      'k,gateway=gw1 t=1,ts=5 1700000000000000',
    );
  });

  it('number and line routes take the time property too; a line keeps its own timestamp', () => {
    const r = router([
      { topic: 'n/{device}', format: 'number', measurement: 'power', tags: { site: '{$user.site}' }, timeField: '$user.ts' },
      { topic: 'l/{device}', format: 'line', tags: { site: '{$user.site}' }, timeField: '$user.ts', timeUnit: 'ms' },
    ]);
    const props = { userProperties: { site: 'h1', ts: '1700000000000' } };
    assert.equal(lines(send(r, 'n/d1', '42', props)), 'power,gateway=gw1,site=h1 value=42 1700000000000000');
    assert.equal(
      lines(send(r, 'l/d1', 'm v=1\nm v=2 1600000000000', props)),
      'm,gateway=gw1,site=h1 v=1 1700000000000000\nm,gateway=gw1,site=h1 v=2 1600000000000000',
    );
  });

  it('a route whose only property is its time: captures untouched, tags from the topic', () => {
    const r = router([{ topic: 't/{device}', format: 'number', measurement: 'p', tags: { device: '{device}' }, timeField: '$user.ts' }]);
    assert.equal(r.usesProperties, true);
    assert.equal(
      lines(send(r, 't/d1', '1', { userProperties: { ts: '1700000000000' } })),
      'p,device=d1,gateway=gw1 value=1 1700000000000000',
    );
    assert.equal(lines(send(r, 't/d2', '2')), `p,device=d2,gateway=gw1 value=2 ${ARRIVAL_US}`);
  });

  it('the series cache keeps property values apart (one topic, two sites)', () => {
    const r = router([PLANT]);
    const a = lines(send(r, 'plant/d1', '{"t":1}', { userProperties: { kind: 'k', site: 'a' } }));
    const b = lines(send(r, 'plant/d1', '{"t":1}', { userProperties: { kind: 'k', site: 'b' } }));
    const none = lines(send(r, 'plant/d1', '{"t":1}', { userProperties: { kind: 'k' } }));
    assert.deepEqual(
      [a, b, none],
      [
        `k,device=d1,gateway=gw1,site=a t=1 ${ARRIVAL_US}`,
        `k,device=d1,gateway=gw1,site=b t=1 ${ARRIVAL_US}`,
        `k,device=d1,gateway=gw1 t=1 ${ARRIVAL_US}`,
      ],
    );
  });

  it('a route that reads no property ignores them (no property work on its messages)', () => {
    const r = router([{ topic: 'sensors/{device}/{measurement}' }]);
    assert.equal(r.usesProperties, false);
    const props = { contentType: 'x', userProperties: { site: 'a' } };
    assert.equal(lines(send(r, 'sensors/d/m', '{"t":1}', props)), lines(send(r, 'sensors/d/m', '{"t":1}')));
  });

  it('a sparkplug route may use properties in tags, not as its time', () => {
    assert.doesNotThrow(() =>
      parseRoutes([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'sp', tags: { site: '{$user.site}' } }]),
    );
    assert.throws(
      () => parseRoutes([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'sp', timeField: '$user.ts' }]),
      (e: unknown) => e instanceof FormatError && e.path === '[0].timeField' && /payload carries the time/.test(e.message),
    );
  });
});

describe('routes with MQTT 5 properties: configuration', () => {
  const load = (routes: unknown, env: Record<string, string> = {}) =>
    loadConfig({ argv: [], env: { EDGEBRIDGE_ROUTES: JSON.stringify(routes), ...env }, hostname: 'h' });

  it('unknown property names and timeField properties other than $user.NAME exit 78 naming the key', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ topic: 'a/{d}', measurement: '{$usr.kind}' }, 'routes[0].measurement', /"\$usr\.kind" is not a message property/],
      [{ topic: 'a/{d}', measurement: 'm', tags: { s: '{$user.}' } }, 'routes[0].tags.s', /"\$user\." is not a message property/],
      [{ topic: 'a/{d}', measurement: 'm', tags: { s: '{dev}' } }, 'routes[0].tags.s', /unknown name "dev"; available: d\)/],
      [{ topic: 'a/{d}', measurement: 'm', timeField: '$contentType' }, 'routes[0].timeField', /"\$user\.NAME"/],
      [{ topic: 'a/{d}', measurement: 'm', timeField: '$user' }, 'routes[0].timeField', /is not a message property/],
    ];
    for (const [route, key, message] of cases) {
      assert.throws(
        () => load([route]),
        (e: unknown) => e instanceof ConfigError && e.key === key && message.test(e.message) && /EDGEBRIDGE_ROUTES/.test(e.message),
        key,
      );
    }
  });

  it('a route reading properties on MQTT 3.1.1 (mqtt.protocolVersion 4) exits 78 naming the route key and the fix', () => {
    const routes = [{ topic: 'a/{measurement}' }, { topic: 'b/{d}', measurement: 'm', tags: { d: '{d}', site: '{$user.site}' } }];
    assert.throws(
      () => load(routes, { EDGEBRIDGE_MQTT_PROTOCOL_VERSION: '4' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.key, 'routes[1].tags.site');
        assert.match(e.message, /got "\{\$user\.site\}" — expected no MQTT 5 property while mqtt\.protocolVersion is 4/);
        assert.match(e.message, /EDGEBRIDGE_MQTT_PROTOCOL_VERSION=5/);
        return true;
      },
    );
    assert.throws(
      () => load([{ topic: 'b/{measurement}', timeField: '$user.ts' }], { EDGEBRIDGE_MQTT_PROTOCOL_VERSION: '4' }),
      (e: unknown) => e instanceof ConfigError && e.key === 'routes[0].timeField',
    );
    assert.equal(load(routes).routes[1]!.propertyKey, 'tags.site');
    assert.doesNotThrow(() => load([{ topic: 'a/{measurement}' }], { EDGEBRIDGE_MQTT_PROTOCOL_VERSION: '4' }));
  });
});
