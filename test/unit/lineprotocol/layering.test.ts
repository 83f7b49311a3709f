import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Issue 13: the grammars are ground floors; the InfluxDB client belongs to the InfluxDB sink alone. */

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** [file relative to src, import specifier resolved relative to src (or the package name)]. */
function imports(): [string, string][] {
  const out: [string, string][] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"\n]*?from\s+'([^']+)'|require\('([^']+)'\)|import\(\s*'([^']+)'\s*\)/g,
    )) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      const target = spec.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), spec)) : spec;
      out.push([path.relative(SRC, file), target]);
    }
  }
  return out;
}

describe('layering', () => {
  const all = imports();
  it('only src/sinks/influx/ loads @influxdata/influxdb-client', () => {
    const users = all
      .filter(([, t]) => t.startsWith('@influxdata/influxdb-client') || t === 'sinks/influx/influxClient.ts')
      .map(([f]) => f);
    assert.deepEqual(
      users.filter((f) => !f.startsWith(`sinks${path.sep}influx${path.sep}`)),
      [],
    );
  });

  it('lineprotocol/ and topic/ import nothing of the gateway outside themselves', () => {
    const bad = all.filter(([f, t]) => /^(lineprotocol|topic)\//.test(f) && !t.startsWith('node:') && !t.startsWith(f.split('/')[0]!));
    assert.deepEqual(bad, []);
  });

  it('pipeline/ does not import sinks/, source/ or workers/; spool/ and sinks/ do not import pipeline/', () => {
    const bad = all.filter(
      ([f, t]) =>
        (f.startsWith('pipeline/') && /^(sinks|source|workers)\//.test(t)) || (/^(spool|sinks)\//.test(f) && t.startsWith('pipeline/')),
    );
    assert.deepEqual(bad, []);
  });
});
