import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseRouteTests, RouteTestFileError } from '../../../src/cli/routeTest/RouteTestCase.ts';
import { runCli } from '../../../src/cli/runCli.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'eb-route-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(argv: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (add(String(chunk)), cb()) });
  const outcome = runCli({ argv, env, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  assert.equal(outcome.kind, 'exit');
  return { code: outcome.kind === 'exit' ? outcome.code : -1, stdout, stderr };
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Each preset of config/routes/ with the subscription it needs: its tests in config/routes/tests/ must pass. */
const PRESETS = [
  ['tasmota', 'tele/+/SENSOR:1'],
  ['zigbee2mqtt', 'zigbee2mqtt/+:1'],
  ['shelly-gen2', '+/events/rpc:1'],
  ['numeric', 'home/+/+:1'],
  ['mqtt5-properties', 'plant/+/data:1'],
] as const;

describe('edgebridge test FILE…', () => {
  for (const [preset, subscription] of PRESETS) {
    it(`the route tests of config/routes/${preset}.json pass`, () => {
      const r = cli([
        'test',
        join(ROOT, `config/routes/tests/${preset}.json`),
        '--routes-file',
        join(ROOT, `config/routes/${preset}.json`),
        '--mqtt-subscriptions',
        subscription,
        '--gateway-id',
        'edge-01',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: \d+ passed, 0 failed\n$/);
      assert.doesNotMatch(r.stdout, /✘/);
    });
  }

  it('a failing case: exit 1 with - expected / + got lines and the point as written', () => {
    const tests = file('fail.json', {
      cases: [
        {
          name: 'wrong field',
          topic: 'sensors/d1/climate',
          payload: { t: 21.5, h: 40 },
          expect: { points: [{ measurement: 'climate', tags: { device: 'd1', room: 'k' }, fields: { t: 22, h: 40 }, absent: ['h'] }] },
        },
        { name: 'expected a rejection', topic: 'sensors/d1/climate', payload: { t: 1 }, expect: { rejected: 'bad_json' } },
        {
          name: 'ok',
          topic: 'sensors/d1/climate',
          payload: '{"t":1}',
          expect: { points: [{ fields: { t: 1 } }], sinks: ['influx', 'redis'] },
        },
        { name: 'other topic', topic: 'other/x', payload: '1', expect: { unrouted: true } },
        {
          name: 'time',
          topic: 'sensors/d1/m',
          payload: { v: 1, ts: 1736942400000 },
          expect: { points: [{ time: '2025-01-15T12:00:01Z' }] },
        },
      ],
    });
    const r = cli(['test', tests], { EDGEBRIDGE_GATEWAY_ID: 'g' });
    assert.equal(r.code, 1);
    const out = r.stdout;
    assert.match(out, /✘ wrong field\n/);
    assert.match(out, /- point 1 tag room="k"\n\s+\+ point 1 tag room missing\n/);
    assert.match(out, /- point 1 field t=22\n\s+\+ point 1 field t=21\.5\n/);
    assert.match(out, /- point 1 without h\n\s+\+ point 1 has field h\n/);
    assert.match(out, /point 1 as written: climate,device=d1,gateway=g h=40,t=21\.5 \d+\n/);
    assert.match(out, /✘ expected a rejection\n\s+- rejected: bad_json\n\s+\+ 1 point\(s\) by route 1/);
    assert.match(out, /✔ ok\n/);
    assert.match(out, /✔ other topic\n/, 'an unsubscribed topic may be expected unrouted');
    assert.match(out, /- point 1 time 2025-01-15T12:00:01\.000Z\n\s+\+ point 1 time 2025-01-15T12:00:00\.000Z/);
    assert.match(out, /5 case\(s\) in 1 file\(s\): 2 passed, 3 failed\n$/);
  });

  it('a topic no subscription delivers fails a case that expects points', () => {
    const tests = file('unsub.json', [{ topic: 'sensors/d1/m', payload: { v: 1 }, expect: { points: [{ fields: { v: 1 } }] } }]);
    const r = cli(['test', tests, '--mqtt-subscriptions', 'other/#:1'], { EDGEBRIDGE_GATEWAY_ID: 'g' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\+ not subscribed: no filter of mqtt.subscriptions matches the topic/);
  });

  it('an unusable file is a failure that names the problem; a config error exits 78; no FILE is a usage error', () => {
    const good = file('good.json', [{ topic: 'sensors/d/m', payload: '{"v":1}', expect: { points: [{}] } }]);
    const typo = file('typo.json', [{ topic: 'sensors/d/m', payload: '{"v":1}', expect: { point: [] } }]);
    const r = cli(['test', good, typo, join(dir, 'missing.json')], { EDGEBRIDGE_GATEWAY_ID: 'g' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /typo\.json\n {2}✘ cannot use this file: cases\[0\]\.expect: unknown key "point"/);
    assert.match(r.stdout, /missing\.json\n {2}✘ cannot use this file: ENOENT/);
    assert.match(r.stdout, /1 case\(s\) in 3 file\(s\): 1 passed, 0 failed, 2 file\(s\) unusable\n$/);
    assert.equal(cli(['test', good], { EDGEBRIDGE_GATEWAY_ID: 'g' }).code, 0);
    const bad = cli(['test', good, '--mqtt-url', 'ftp://x']);
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /mqtt\.url/);
    assert.equal(cli(['test']).code, 2);
  });

  it('parseRouteTests checks every key: payload forms, properties, times, expectations', () => {
    const [c] = parseRouteTests(
      JSON.stringify({
        receivedAt: 1000,
        cases: [
          {
            topic: 't',
            payloadBase64: Buffer.from([0, 1]).toString('base64'),
            properties: { contentType: 'application/json', userProperties: { site: 'a', tags: ['x', 'y'] } },
            expect: { rejected: 'bad_json', detail: 'x' },
          },
        ],
      }),
    );
    assert.deepEqual(c!.payload, Buffer.from([0, 1]));
    assert.equal(c!.receivedAt, 1000);
    assert.deepEqual(c!.properties, { contentType: 'application/json', userProperties: { site: 'a', tags: ['x', 'y'] } });
    const refuses = (cases: unknown, message: RegExp) =>
      assert.throws(
        () => parseRouteTests(JSON.stringify(cases)),
        (e: unknown) => e instanceof RouteTestFileError && message.test(e.message),
      );
    refuses([], /non-empty array/);
    refuses([{ topic: 't', payload: 'x', expect: {} }], /exactly one of/);
    refuses([{ topic: 't', payload: 'x', expect: { rejected: 'nope' } }], /expected one of too_large/);
    refuses([{ topic: 't', payload: 'x', payloadBase64: 'eA==', expect: { unrouted: true } }], /not both/);
    refuses([{ topic: 't', expect: { unrouted: true } }], /payload: missing/);
    refuses([{ topic: 't', payload: 'x', expect: { points: [{ time: '2025-01-15T12:00:00' }] } }], /with a zone/);
    refuses([{ topic: 't', payload: 'x', expect: { points: [{ tags: { a: 1 } }] } }], /tag values are strings/);
    refuses([{ topic: 't', payload: 'x', properties: { userProperties: { a: 1 } }, expect: { unrouted: true } }], /string or an array/);
    assert.throws(() => parseRouteTests('{'), /not JSON/);
  });
});
