import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../../src/config/Config.ts';
import { parseRoutes } from '../../../src/route/parseRoutes.ts';
import { Router, type RouterOptions } from '../../../src/pipeline/Router.ts';
import type { RouteResult } from '../../../src/pipeline/RouteResult.ts';

const RECEIVED = 1732240000000; // ms
const ARRIVAL_US = '1732240000000000';

/** The product's default route. */
const DEFAULT_ROUTE: RouteConfig = {
  topic: 'sensors/{device}/{measurement}',
  format: 'json',
  measurement: '{measurement}',
  tags: { device: '{device}' },
  fields: [],
  flatten: false,
  timeField: 'ts',
  timeUnit: 'ms',
  sinks: [],
};

function router(routes: readonly RouteConfig[], extra: Partial<RouterOptions> = {}): Router {
  // Routes come compiled by the loader, as in the gateway.
  return new Router({
    routes: parseRoutes(routes),
    sinkNames: ['influx', 'redis'],
    gatewayId: 'gw1',
    gatewayTag: true,
    maxPayloadBytes: 4096,
    ...extra,
  });
}

function route(overrides: Partial<RouteConfig>): RouteConfig {
  return { ...DEFAULT_ROUTE, ...overrides };
}

function send(r: Router, topic: string, payload: string | object): RouteResult {
  return r.route(topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), RECEIVED);
}

function lines(result: RouteResult): string {
  if (result.kind !== 'ok') assert.fail(`expected ok, got ${JSON.stringify(result)}`);
  return result.entry.lines;
}

function reason(result: RouteResult): string {
  if (result.kind !== 'rejected') assert.fail(`expected rejected, got ${JSON.stringify(result)}`);
  return result.reason;
}

function loadRoutes(file: string): RouteConfig[] {
  return JSON.parse(readFileSync(new URL(`../../../config/routes/${file}`, import.meta.url), 'utf8')) as RouteConfig[];
}

describe('Router', () => {
  it('keeps the series of different topic captures apart, whatever characters the levels hold', () => {
    const r = router([DEFAULT_ROUTE]);
    // Joined with any one separator these two capture lists would look alike; the cached series must not mix.
    assert.equal(lines(send(r, 'sensors/a:1/b', { t: 1 })), `b,device=a:1,gateway=gw1 t=1 ${ARRIVAL_US}`);
    assert.equal(lines(send(r, 'sensors/a/1:b', { t: 1 })), `1:b,device=a,gateway=gw1 t=1 ${ARRIVAL_US}`);
    assert.equal(reason(send(r, 'sensors/%/', { t: 1 })), 'bad_name');
    assert.ok(send(r, 'sensors//%', { t: 1 }).kind === 'ok');
    assert.equal(reason(send(r, 'sensors/%/', { t: 1 })), 'bad_name', 'after the other one was cached');
  });

  it('default route: the documented example', () => {
    const result = send(router([DEFAULT_ROUTE]), 'sensors/dev1/climate', '{"t":21.5,"h":40}');
    // Point sorts tags and fields by key.
    assert.deepEqual(result, {
      kind: 'ok',
      entry: { lines: `climate,device=dev1,gateway=gw1 h=40,t=21.5 ${ARRIVAL_US}`, points: 1, sinks: 0b11, receivedAt: RECEIVED },
    });
  });

  it('default route: time field in ms becomes µs and is not a field', () => {
    const r = router([DEFAULT_ROUTE]);
    assert.equal(
      lines(send(r, 'sensors/dev1/climate', { t: 21.5, ts: 1700000000123 })),
      'climate,device=dev1,gateway=gw1 t=21.5 1700000000123000',
    );
    assert.equal(reason(send(r, 'sensors/dev1/climate', { t: 21.5, ts: 'soon' })), 'bad_time');
    assert.equal(reason(send(r, 'sensors/dev1/climate', { t: 21.5, ts: -1 })), 'bad_time');
    assert.equal(lines(send(r, 'sensors/dev1/climate', { t: 21.5, ts: null })), `climate,device=dev1,gateway=gw1 t=21.5 ${ARRIVAL_US}`);
  });

  it('numbers are always floats, booleans and strings kept, nested ignored without flatten', () => {
    const r = router([DEFAULT_ROUTE], { gatewayTag: false });
    assert.equal(
      lines(send(r, 'sensors/d/m', '{"n":21,"b":true,"s":"NaN","o":{"x":1},"a":[1,2],"z":null,"big":1e400}')),
      `m,device=d b=T,n=21,s="NaN" ${ARRIVAL_US}`,
    );
  });

  it('flatten: nested objects joined with _, arrays by index', () => {
    const r = router([route({ flatten: true, timeField: '' })], { gatewayTag: false });
    assert.equal(
      lines(send(r, 'sensors/d/m', { a: { b: 1, c: { d: true } }, arr: [5, { x: 'y' }] })),
      `m,device=d a_b=1,a_c_d=T,arr_0=5,arr_1_x="y" ${ARRIVAL_US}`,
    );
  });

  it('selected fields with dot paths and renames', () => {
    const r = router([route({ fields: ['power=ENERGY.Power', 'ENERGY.Total', 'missing.path', 'list.1'], timeField: '' })], {
      gatewayTag: false,
    });
    assert.equal(
      lines(send(r, 'sensors/d/m', { ENERGY: { Power: 40, Total: 1.2, Voltage: 230 }, other: 1, list: [7, 8] })),
      `m,device=d ENERGY_Total=1.2,list_1=8,power=40 ${ARRIVAL_US}`,
    );
    assert.equal(reason(send(r, 'sensors/d/m', { other: 1 })), 'no_fields');
  });

  it('rejects bad json, non-objects, no fields', () => {
    const r = router([DEFAULT_ROUTE]);
    const bad = send(r, 'sensors/d/m', '{"t":');
    assert.equal(reason(bad), 'bad_json');
    assert.ok(bad.kind === 'rejected' && bad.detail.length > 0);
    for (const p of ['[1]', '1', '"x"', 'null', 'true']) assert.equal(reason(send(r, 'sensors/d/m', p)), 'not_object', p);
    assert.equal(reason(send(r, 'sensors/d/m', '{}')), 'no_fields');
    assert.equal(reason(send(r, 'sensors/d/m', '{"o":{"a":1},"n":null}')), 'no_fields');
    assert.equal(reason(send(r, 'sensors/d/m', '{"ts":1700000000000}')), 'no_fields');
  });

  it('too large, unrouted, first match wins', () => {
    const r = router([route({ topic: 'a/{measurement}', tags: {} }), route({ topic: 'a/#', measurement: 'second', tags: {} })], {
      maxPayloadBytes: 10,
    });
    assert.equal(reason(send(r, 'a/x', '{"v":1,"w":22}')), 'too_large');
    assert.deepEqual(send(r, 'b/x', '{"v":1}'), { kind: 'unrouted' });
    assert.equal(lines(send(r, 'a/x', '{"v":1}')), `x,gateway=gw1 v=1 ${ARRIVAL_US}`);
    assert.equal(lines(send(r, 'a/x/y', '{"v":1}')), `second,gateway=gw1 v=1 ${ARRIVAL_US}`);
    // A rejection by the first matching route does not fall through.
    assert.equal(reason(send(r, 'a/x', '[]')), 'not_object');
  });

  it('sink bitmask: bit i = sinkNames[i], empty = all, unknown throws', () => {
    const r = router(
      [route({ topic: 'a/{measurement}', sinks: ['redis'], tags: {} }), route({ topic: 'b/{measurement}', sinks: [], tags: {} })],
      {
        sinkNames: ['influx', 'redis', 'other'],
      },
    );
    const a = send(r, 'a/m', '{"v":1}');
    const b = send(r, 'b/m', '{"v":1}');
    assert.ok(a.kind === 'ok' && b.kind === 'ok');
    assert.equal(a.entry.sinks, 0b010);
    assert.equal(b.entry.sinks, 0b111);
    assert.throws(() => router([route({ sinks: ['nope'] })]), /unknown sink "nope"/);
  });

  it('bad names: empty measurement, unsafe tag values and field keys; empty tag values omitted', () => {
    const r = router([DEFAULT_ROUTE]);
    assert.equal(reason(send(r, 'sensors/d/', '{"v":1}')), 'bad_name');
    assert.equal(lines(send(r, 'sensors//m', '{"v":1}')), `m,gateway=gw1 v=1 ${ARRIVAL_US}`);
    assert.equal(reason(send(r, 'sensors/d\\/m', '{"v":1}')), 'bad_name');
    assert.equal(reason(send(r, 'sensors/d/m', '{"v\\\\":1}')), 'bad_name');
    assert.equal(reason(send(r, 'sensors/d/#x', '{"v":1}')), 'bad_name');
    // Escaping of the parts that can be written.
    assert.equal(
      lines(send(r, 'sensors/d 1,x=y/m e,s', '{"a b,c=d":"q\\"uo\\\\te"}')),
      `m\\ e\\,s,device=d\\ 1\\,x\\=y,gateway=gw1 a\\ b\\,c\\=d="q\\"uo\\\\te" ${ARRIVAL_US}`,
    );
  });

  it('construction errors name the problem (patterns and templates: at load, test/unit/config/routes.test.ts)', () => {
    assert.throws(() => router([route({ fields: ['=a'] })]), /field "=a"/);
    assert.throws(() => router([DEFAULT_ROUTE], { gatewayId: 'bad\\' }), /gateway id/);
  });

  it('gateway tag overrides, and can be turned off', () => {
    const off = router([route({ tags: { device: '{device}', site: 'home' } })], { gatewayTag: false });
    assert.equal(lines(send(off, 'sensors/d/m', '{"v":1}')), `m,device=d,site=home v=1 ${ARRIVAL_US}`);
    const on = router([route({ tags: { gateway: 'forged' } })]);
    assert.equal(lines(send(on, 'sensors/d/m', '{"v":1}')), `m,gateway=gw1 v=1 ${ARRIVAL_US}`);
  });

  describe('number format', () => {
    const r = router(loadRoutes('numeric.json'));
    it('bare numbers and booleans become field value', () => {
      assert.equal(
        lines(send(r, 'home/kitchen/temperature', ' 21.5\n')),
        `temperature,device=kitchen,gateway=gw1 value=21.5 ${ARRIVAL_US}`,
      );
      assert.equal(lines(send(r, 'home/kitchen/temperature', '-3')), `temperature,device=kitchen,gateway=gw1 value=-3 ${ARRIVAL_US}`);
      assert.equal(lines(send(r, 'home/door/open', 'true')), `open,device=door,gateway=gw1 value=T ${ARRIVAL_US}`);
    });
    it('anything else is bad_number', () => {
      for (const p of ['', 'abc', 'NaN', 'Infinity', '1e999', '0x10', '{"v":1}', '1 2', 'True']) {
        assert.equal(reason(send(r, 'home/kitchen/temperature', p)), 'bad_number', p);
      }
    });
  });

  describe('line format', () => {
    const lineRoute = (timeUnit: RouteConfig['timeUnit']): RouteConfig =>
      route({ topic: 'influx/{device}', format: 'line', measurement: '', tags: { device: '{device}' }, timeField: '', timeUnit });

    it('rebuilds each line with route and gateway tags, ns timestamps by default', () => {
      const r = router([lineRoute('auto')]);
      const payload =
        '# comment\n\nweather,device=payload,loc=roof temp=21.5,count=3i,big=9223372036854775807i,u=5u,ok=t,s="a b\nc" 1732240000123456789\r\n  \nweather hum=40\n';
      const result = send(r, 'influx/dev1', payload);
      assert.ok(result.kind === 'ok');
      assert.equal(result.entry.points, 2);
      assert.equal(
        result.entry.lines,
        'weather,device=dev1,gateway=gw1,loc=roof big=9223372036854775807i,count=3i,ok=T,s="a b\\nc",temp=21.5,u=5u 1732240000123457\n' +
          `weather,device=dev1,gateway=gw1 hum=40 ${ARRIVAL_US}`,
      );
    });

    it('interprets timestamps in the route unit', () => {
      assert.equal(lines(send(router([lineRoute('s')]), 'influx/d', 'm v=1 1732240000')), `m,device=d,gateway=gw1 v=1 ${ARRIVAL_US}`);
      assert.equal(lines(send(router([lineRoute('ms')]), 'influx/d', 'm v=1 1732240000000')), `m,device=d,gateway=gw1 v=1 ${ARRIVAL_US}`);
      assert.equal(
        lines(send(router([lineRoute('us')]), 'influx/d', 'm v=1 1732240000000000')),
        `m,device=d,gateway=gw1 v=1 ${ARRIVAL_US}`,
      );
      assert.equal(reason(send(router([lineRoute('auto')]), 'influx/d', 'm v=1 -5')), 'bad_time');
    });

    it('rejects bad lines with the line number', () => {
      const r = router([lineRoute('auto')]);
      const result = send(r, 'influx/d', 'm v=1\nm v=NaN');
      assert.equal(reason(result), 'bad_line');
      assert.ok(result.kind === 'rejected' && result.detail.startsWith('line 2: '));
      assert.equal(reason(send(r, 'influx/d', '# only a comment\n')), 'bad_line');
      // Decodes fine (as InfluxDB would: an escaped newline), but Point could not write the value back.
      assert.equal(reason(send(r, 'influx/d', 'm,t=a\\\nb v=1')), 'bad_name');
      // Even backslash runs are fine: `a\\\ b` is `a\\` + escaped space.
      assert.equal(lines(send(r, 'influx/d', 'm,t=a\\\\\\ b v=1')), `m,device=d,gateway=gw1,t=a\\\\\\ b v=1 ${ARRIVAL_US}`);
    });
  });

  describe('example route files', () => {
    it('zigbee2mqtt: device reports become points, bridge topics do not', () => {
      const r = router(loadRoutes('zigbee2mqtt.json'));
      assert.equal(
        lines(
          send(r, 'zigbee2mqtt/living_room_sensor', '{"temperature":21.3,"humidity":45,"battery":97,"linkquality":120,"voltage":2995}'),
        ),
        `zigbee,device=living_room_sensor,gateway=gw1 battery=97,humidity=45,linkquality=120,temperature=21.3,voltage=2995 ${ARRIVAL_US}`,
      );
      assert.deepEqual(send(r, 'zigbee2mqtt/bridge/state', '{"state":"online"}'), { kind: 'unrouted' });
      assert.deepEqual(send(r, 'zigbee2mqtt/bridge/devices', '[]'), { kind: 'unrouted' });
      assert.deepEqual(send(r, 'zigbee2mqtt/living_room_sensor/availability', '{"state":"online"}'), { kind: 'unrouted' });
    });

    it('tasmota: flattened sensors, ISO time without zone read as UTC', () => {
      const r = router(loadRoutes('tasmota.json'));
      const payload =
        '{"Time":"2024-01-01T12:00:00","ENERGY":{"Total":1.2,"Power":40,"Voltage":230},"AM2301":{"Temperature":21.1,"Humidity":40},"TempUnit":"C"}';
      assert.equal(
        lines(send(r, 'tele/plug1/SENSOR', payload)),
        `tasmota,device=plug1,gateway=gw1 AM2301_Humidity=40,AM2301_Temperature=21.1,ENERGY_Power=40,ENERGY_Total=1.2,ENERGY_Voltage=230,TempUnit="C" ${Date.UTC(2024, 0, 1, 12)}000`,
      );
      assert.deepEqual(send(r, 'tele/plug1/STATE', '{"POWER":"ON"}'), { kind: 'unrouted' });
    });

    it('shelly gen2: NotifyStatus fields by dot paths with ":" segments, ts in seconds', () => {
      const r = router(loadRoutes('shelly-gen2.json'));
      const payload = JSON.stringify({
        src: 'shellyplus1pm-a8032ab12345',
        dst: 'shellyplus1pm-a8032ab12345/events',
        method: 'NotifyStatus',
        params: { ts: 1700000000.12, 'switch:0': { id: 0, apower: 12.3, voltage: 229.1, current: 0.05, aenergy: { total: 1234.5 } } },
      });
      assert.equal(
        lines(send(r, 'shellyplus1pm-a8032ab12345/events/rpc', payload)),
        'shelly,channel=switch:0,device=shellyplus1pm-a8032ab12345,gateway=gw1 apower=12.3,current=0.05,energy_total=1234.5,voltage=229.1 1700000000120000',
      );
      // A partial status carries only what changed.
      assert.equal(
        lines(
          send(r, 'shellyplus1pm-a8032ab12345/events/rpc', '{"method":"NotifyStatus","params":{"ts":1700000001,"switch:0":{"apower":0}}}'),
        ),
        'shelly,channel=switch:0,device=shellyplus1pm-a8032ab12345,gateway=gw1 apower=0 1700000001000000',
      );
      // NotifyEvent has none of the fields.
      assert.equal(
        reason(send(r, 'shellyplus1pm-a8032ab12345/events/rpc', '{"method":"NotifyEvent","params":{"ts":1700000001,"events":[]}}')),
        'no_fields',
      );
    });

    it('every example route has exactly the keys of RouteConfig', () => {
      const keys = Object.keys(DEFAULT_ROUTE).sort();
      for (const file of ['zigbee2mqtt.json', 'tasmota.json', 'shelly-gen2.json', 'numeric.json']) {
        for (const r of loadRoutes(file)) assert.deepEqual(Object.keys(r).sort(), keys, file);
      }
    });
  });
});

describe('Router: text that UTF-8 cannot carry', () => {
  it('lone surrogates from JSON escapes become U+FFFD, as the spool file would make them', () => {
    const r = router([DEFAULT_ROUTE]);
    const out = lines(send(r, 'sensors/d1/m', '{"a\\ud800b":"x\\udfffy","t":1}'));
    assert.ok(out.isWellFormed());
    assert.equal(out, `m,device=d1,gateway=gw1 a\uFFFDb="x\uFFFDy",t=1 ${ARRIVAL_US}`);
  });
});
