import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Config, InfluxSinkConfig, RedisSinkConfig } from '../../../src/config/Config.ts';
import type { ResolvedTls } from '../../../src/tls/resolveTls.ts';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `[file, specifier, typeOnly]` of every import of a config/ module. */
function configImports(folder: string): [string, string, boolean][] {
  return files(join(src, folder)).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^import (type )?[^;]*?from '([^']*\/config\/[^']*)';/gms)].map(
      (m): [string, string, boolean] => [relative(src, file), m[2]!, m[1] !== undefined],
    ),
  );
}

/** Every src/ module loaded at run time (value imports, transitively) by `file`. */
function loadedBy(file: string, seen = new Set<string>()): Set<string> {
  for (const m of readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*?from '(\.[^']*)';/gms)) {
    const target = resolve(dirname(file), m[1]!);
    if (!seen.has(target)) {
      seen.add(target);
      loadedBy(target, seen);
    }
  }
  return seen;
}

describe('config layering', () => {
  it('tls/ and errors/ import nothing from config/, spool/ only its slice of the Config type (ConfigError lives in errors/)', () => {
    for (const folder of ['tls', 'errors']) assert.deepEqual(configImports(folder), [], folder);
    for (const [file, spec, typeOnly] of configImports('spool'))
      assert.ok(typeOnly && spec.endsWith('/config/Config.ts'), `${file} imports ${spec}`);
  });

  it('log/ and route/ import nothing from config/ (config imports them: redaction, route compilation)', () => {
    for (const folder of ['log', 'route']) assert.deepEqual(configImports(folder), [], folder);
  });

  it('config/ loads nothing of pipeline/ (routes are compiled with src/topic); only the loader compiles a route pattern', () => {
    for (const file of files(join(src, 'config'))) {
      const reached = [...loadedBy(file)].map((f) => relative(src, f)).filter((f) => f.startsWith('pipeline/'));
      assert.deepEqual(reached, [], relative(src, file));
    }
    // The message explainer (--dry-run, edgebridge test, the status page's tester) also builds patterns, but of mqtt.subscriptions, to tell which lines the broker would deliver.
    const compiling = files(src)
      .filter((f) => readFileSync(f, 'utf8').includes('new TopicPattern('))
      .map((f) => relative(src, f));
    assert.deepEqual(compiling.sort(), ['explain/MessageExplainer.ts', 'route/parseRoutes.ts']);
    const router = readFileSync(join(src, 'pipeline/Router.ts'), 'utf8');
    assert.doesNotMatch(router, /^import \{[^}]*\} from '\.\.\/topic\//m, 'the Router takes compiled routes: it imports topic/ types only');
  });

  it('run-time modules never load the config schema or its key naming (TLS labels and material come with the Config)', () => {
    for (const folder of ['source', 'sinks', 'pipeline', 'spool', 'tls', 'workers', 'health', 'log']) {
      for (const file of files(join(src, folder))) {
        const reached = [...loadedBy(file)].map((f) => relative(src, f)).filter((f) => f.startsWith('config/'));
        assert.deepEqual(reached, [], relative(src, file));
      }
    }
  });
});

// Compile-time checks (npm run typecheck): Config is derived from the schema; the loader only reshapes sinks and TLS.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
export type Derived = [
  Expect<Equal<Config['http']['port'], number>>,
  Expect<Equal<Config['log']['level'], 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>>,
  Expect<Equal<Config['mqtt']['protocolVersion'], 4 | 5>>,
  Expect<Equal<Config['mqtt']['tls'], ResolvedTls>>,
  Expect<Equal<RedisSinkConfig['sentinels'][number], { readonly host: string; readonly port: number }>>,
  Expect<Equal<InfluxSinkConfig['type'], 'influx'>>,
  Expect<
    Equal<keyof Config, 'gatewayId' | 'gatewayTag' | 'log' | 'mqtt' | 'routes' | 'sinks' | 'spool' | 'http' | 'sparkplug' | 'shutdown'>
  >,
];
