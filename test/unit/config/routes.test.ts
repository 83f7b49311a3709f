import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/errors/ConfigError.ts';
import { FormatError } from '../../../src/errors/FormatError.ts';
import { loadConfig, loadConfigDetailed } from '../../../src/config/loadConfig.ts';
import { DEFAULT_ROUTE, parseRoutes } from '../../../src/route/parseRoutes.ts';
import { Template } from '../../../src/topic/Template.ts';
import { TopicPattern } from '../../../src/topic/TopicPattern.ts';

const dir = mkdtempSync(join(tmpdir(), 'eb-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const ROUTES = [
  { topic: 'plant/{site}/{device}/{measurement}', tags: { site: '{site}', device: '{device}' } },
  { topic: 'meters/{meter}/power', format: 'number', measurement: 'power', timeField: '' },
  { topic: 'lp/{rest#}', format: 'line', sinks: ['influx'] },
];

describe('parseRoutes', () => {
  it('fills missing optional keys with the default route values', () => {
    const [a, b, c] = parseRoutes(ROUTES);
    assert.deepEqual(a, { ...DEFAULT_ROUTE, topic: ROUTES[0]!.topic, tags: { site: '{site}', device: '{device}' } });
    assert.deepEqual(b, {
      ...DEFAULT_ROUTE,
      topic: 'meters/{meter}/power',
      format: 'number',
      measurement: 'power',
      tags: {},
      timeField: '',
    });
    assert.equal(c?.format, 'line');
    assert.deepEqual(c?.sinks, ['influx']);
  });

  it('default tags only when the topic captures {device}', () => {
    assert.deepEqual(parseRoutes([{ topic: 'x/{device}/{measurement}' }])[0]?.tags, { device: '{device}' });
    assert.deepEqual(parseRoutes([{ topic: 'x/{measurement}' }])[0]?.tags, {});
  });

  it('throws FormatError with the index and key', () => {
    assert.throws(
      () => parseRoutes([{ topic: 'a/{measurement}' }, { topic: 'b/{measurement}', format: 'xml' }]),
      (e: unknown) => {
        assert.ok(e instanceof FormatError);
        assert.equal(e.path, '[1].format');
        assert.equal(e.message, '[1].format: must be one of json, number, line, sparkplug; got "xml"');
        return true;
      },
    );
    assert.throws(() => parseRoutes({}), FormatError);
    assert.throws(() => parseRoutes(['sensors/#']), /\[0\]: must be a route object/);
    assert.throws(() => parseRoutes([{ topic: 'a/{x}/{x}', measurement: 'm' }]), /\[0\]\.topic/);
    assert.throws(() => parseRoutes([{ topic: 'a/{x#}/b', measurement: 'm' }]), /\[0\]\.topic/);
    assert.throws(() => parseRoutes([{ topic: 'a/{measurement}', fields: [1] }]), /\[0\]\.fields/);
    assert.throws(() => parseRoutes([{ topic: 'a/{measurement}', flatten: 'yes' }]), /\[0\]\.flatten/);
  });
});

describe('routes are compiled once, at load (issue 13)', () => {
  it('each route comes with its TopicPattern and Templates, invisible to print-config and deep-equal', () => {
    const [a, , c] = parseRoutes(ROUTES);
    assert.ok(a!.pattern instanceof TopicPattern);
    assert.deepEqual(a!.pattern.names, ['site', 'device', 'measurement']);
    assert.ok(a!.measurementTemplate instanceof Template);
    assert.equal(a!.measurementTemplate.render(['s', 'd', 'm']), 'm');
    assert.deepEqual(
      a!.tagTemplates.map((t) => t.render(['s', 'd', 'm'])),
      ['s', 'd'],
    );
    assert.equal(c!.measurementTemplate, undefined, 'format line brings its own measurement');
    assert.deepEqual(Object.keys(a!), Object.keys(DEFAULT_ROUTE));
    assert.deepEqual(JSON.parse(JSON.stringify(a)), { ...DEFAULT_ROUTE, topic: ROUTES[0]!.topic, tags: ROUTES[0]!.tags });
  });

  it('a pattern or template the router would refuse is a config error with the key, the value and the fix', () => {
    const cases: Array<[object, string, RegExp]> = [
      [{ topic: 'a/#/b', measurement: 'm' }, 'routes[0].topic', /"#" must be the last level/],
      [{ topic: 'a/b\u0000', measurement: 'm' }, 'routes[0].topic', /U\+0000/],
      [{ topic: 'a/{measurement}', measurement: '{nope}' }, 'routes[0].measurement', /unknown name "nope"; available: measurement/],
      [{ topic: 'a/{measurement}', measurement: 'a}b' }, 'routes[0].measurement', /unmatched "}"/],
      [{ topic: 'a/{measurement}', measurement: '{measurement' }, 'routes[0].measurement', /not closed/],
      [{ topic: 'a/{measurement}', measurement: '#m' }, 'routes[0].measurement', /measurement name that can be written as line protocol/],
      [{ topic: 'a/{measurement}', tags: { x: '{nope}' } }, 'routes[0].tags.x', /unknown name "nope"/],
      [{ topic: 'a/{measurement}', tags: { 'k\\': 'v' } }, 'routes[0].tags.k\\', /tag key that can be written/],
      [{ topic: 'a/{measurement}', tags: { k: 'v\n' } }, 'routes[0].tags.k', /tag value that can be written/],
      [{ topic: 'a/{measurement}', tags: { '': 'x' } }, 'routes[0].tags', /tag keys are not empty/],
    ];
    for (const [route, key, message] of cases) {
      assert.throws(
        () => loadConfig({ argv: [], env: { EDGEBRIDGE_ROUTES: JSON.stringify([route]) }, hostname: 'h' }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.key, key, e.message);
          assert.match(e.message, message);
          assert.match(e.message, /EDGEBRIDGE_ROUTES/, 'names the fix');
          return true;
        },
        JSON.stringify(route),
      );
    }
  });

  it('field paths are compiled at load: a bad one is a config error naming routes[i].fields, the value and the fix', () => {
    const cases: Array<[object, string, RegExp]> = [
      [{ fields: ['a..b'] }, 'routes[0].fields', /\["a\.\.b"\].*field "a\.\.b": expected "path\.to\.value"/s],
      [{ fields: ['ok', '=a'] }, 'routes[0].fields', /field "=a"/],
      [{ fields: ['x.'] }, 'routes[0].fields', /field "x\."/],
      [{ timeField: 'a..b' }, 'routes[0].timeField', /field "a\.\.b"/],
      [{ fields: ['ts'] }, 'routes[0].fields', /other than the time field "ts"/],
    ];
    for (const [route, key, message] of cases) {
      const env = { EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: 'a/{measurement}', ...route }]) };
      assert.throws(
        () => loadConfig({ argv: [], env, hostname: 'h' }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.key, key, e.message);
          assert.match(e.message, message);
          assert.match(e.message, /EDGEBRIDGE_ROUTES/, 'names the fix');
          return true;
        },
        JSON.stringify(route),
      );
    }
    // Compiled once: the decoder takes them as they are; the time field is never a selected field.
    const [r] = parseRoutes([{ topic: 'a/{measurement}', fields: ['p=ENERGY.Power', 'ts'], timeField: 'ts' }]);
    assert.deepEqual(
      r!.fieldPaths.map((f) => [f.name, f.path]),
      [['p', 'ENERGY.Power']],
    );
    assert.equal(r!.timePath?.path, 'ts');
    assert.deepEqual(Object.keys(r!), Object.keys(DEFAULT_ROUTE), 'invisible to print-config');
    // Only json reads fields and timeField; other formats ignore them, as before.
    assert.doesNotThrow(() => parseRoutes([{ topic: 'a/{measurement}', format: 'number', fields: ['a..b'], timeField: 'x..' }]));
  });

  it('"{{" and "}}" are literal braces, as the router renders them', () => {
    const [r] = parseRoutes([{ topic: 'a/{measurement}', measurement: '{{x}}_{measurement}' }]);
    assert.equal(r!.measurementTemplate!.render(['m']), '{x}_m');
  });
});

describe('routesFile', () => {
  it('loads every example in config/routes/', (t) => {
    const examples = fileURLToPath(new URL('../../../config/routes/', import.meta.url));
    const files = existsSync(examples) ? readdirSync(examples).filter((f) => f.endsWith('.json')) : [];
    if (files.length === 0) {
      t.skip('no config/routes/*.json');
      return;
    }
    for (const f of files) {
      const path = join(examples, f);
      const c = loadConfig({ argv: ['--routes-file', path], env: {}, hostname: 'h' });
      assert.deepEqual(c.routes, JSON.parse(readFileSync(path, 'utf8')), f);
    }
  });

  it('replaces routes, via env or CLI', () => {
    const path = write('routes.json', ROUTES);
    const viaEnv = loadConfig({ argv: [], env: { EDGEBRIDGE_ROUTES_FILE: path }, hostname: 'h' });
    assert.equal(viaEnv.routes.length, 3);
    assert.equal(viaEnv.routes[1]?.measurement, 'power');
    const viaCli = loadConfigDetailed({ argv: ['--routes-file', path], env: {}, hostname: 'h' });
    assert.deepEqual(viaCli.config.routes, viaEnv.routes);
    assert.equal(viaCli.routesFile, path);
  });

  it('is resolved against the config file directory and replaces its inline routes', () => {
    const sub = join(dir, 'etc');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'routes.json'), JSON.stringify([ROUTES[1]]));
    writeFileSync(join(sub, 'edgebridge.json'), JSON.stringify({ routesFile: 'routes.json', routes: [ROUTES[0]] }));
    const c = loadConfig({ argv: ['--config', join(sub, 'edgebridge.json')], env: {}, hostname: 'h' });
    assert.deepEqual(
      c.routes.map((r) => r.topic),
      ['meters/{meter}/power'],
    );
  });

  it('errors name the routes file', () => {
    const bad = write('bad-routes.json', [{ topic: 'a/{measurement}' }, { topic: 'b/{measurement}', timeUnit: 'fortnights' }]);
    assert.throws(
      () => loadConfig({ argv: ['--routes-file', bad], env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.key, 'routes[1].timeUnit');
        assert.ok(e.message.includes(bad), e.message);
        return true;
      },
    );
    const missing = join(dir, 'missing.json');
    assert.throws(
      () => loadConfig({ argv: ['--routes-file', missing], env: {} }),
      (e: unknown) => e instanceof ConfigError && e.key === 'routesFile' && e.message.includes(missing),
    );
    assert.throws(() => loadConfig({ argv: ['--routes-file', write('obj.json', { routes: [] })], env: {} }), /does not hold a JSON array/);
  });
});
