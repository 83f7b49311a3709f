/**
 * The Markdown configuration reference, generated from the schema so docs/configuration.md cannot drift
 * (scripts/config-doc.ts --check fails when it does).
 */
import { DEFAULT_ROUTE } from '../src/route/parseRoutes.ts';
import { CONFIG_FILE_ENV, credentialNameFor } from '../src/config/schema.ts';
import { leaves, type SchemaTree } from '../src/config/schemaTree.ts';

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

const ROUTE_DOCS: Record<keyof typeof DEFAULT_ROUTE, string> = {
  topic: 'Required. Levels: literal, `+`, `{name}` (captured); last level may be `#` or `{name#}` (rest, captured).',
  format: '`json`, `number`, `line` (InfluxDB line protocol) or `sparkplug` (Sparkplug B, docs/sparkplug.md).',
  measurement:
    'Template, `{name}` = captured level, `{$user.NAME}` / `{$contentType}` = MQTT 5 property. Required unless the topic captures `{measurement}` or format is `line`.',
  tags: 'Tag name → template (captures and MQTT 5 properties, as `measurement`). Default: `device` → `{device}` when the topic captures `{device}`.',
  fields: 'json: dot paths of fields to keep; empty = every top-level number/boolean/string.',
  flatten: 'json: flatten nested objects into `a_b` fields.',
  timeField: 'json: dot path of the timestamp; `""` = arrival time; `$user.NAME` (json, number, line): an MQTT 5 user property.',
  timeUnit: '`auto`, `s`, `ms`, `us`, `ns` or `iso`.',
  sinks: 'Names of the sinks written to; `[]` = all enabled sinks.',
  deadband:
    'Report by exception: `{absolute, percent, minIntervalMs, maxIntervalMs, writePrevious, sinks, capacity, fields}` (all optional; see [report by exception](report-by-exception.md)). Absent: every point is written.',
};

/** Table cells: pipes would end the cell, newlines the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return `\`${text}\``;
}

export function describeSchema(schema: SchemaTree): string {
  const out: string[] = [
    '## Configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `node scripts/config-doc.ts --write docs/configuration.md`; do not edit by hand.',
    '',
    `Sources, lowest precedence first: defaults < JSON config file (\`--config FILE\` or \`${CONFIG_FILE_ENV}\`) < environment variables < CLI flags.`,
    'Unknown keys in the config file are errors. Env var names are `EDGEBRIDGE_` + the key in UPPER_SNAKE_CASE; CLI flags are the key in kebab-case;',
    'in both, `sinks.influx.` / `sinks.redis.` shorten to `INFLUX_` / `REDIS_`. Booleans accept `true/false/1/0/yes/no/on/off` and `--no-<flag>`; lists take JSON.',
    '',
    'Secrets have no CLI flag (argv is visible to other users). Each is read from, highest first: its env var; `<ENV>_FILE` (path to a file);',
    '`$CREDENTIALS_DIRECTORY/<credential>` (systemd `LoadCredential=`); the config file. A trailing newline in secret files is dropped.',
    'The secret of an extra sink named `cloud` comes from `EDGEBRIDGE_SINK_CLOUD_TOKEN` (redis: `_PASSWORD`), its `_FILE`, or credential `sink_cloud_token`.',
    '',
    '| Key | Env var | CLI flag | Default | Format | Description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [key, leaf] of leaves(schema)) {
    const env = leaf.env ? code(leaf.env) : '';
    const flag = leaf.arg ? code(`--${leaf.arg}`) : leaf.sensitive ? 'none (secret)' : '';
    const dflt = leaf.docDefault ?? code(JSON.stringify(leaf.default));
    let doc = leaf.doc;
    if (leaf.sensitive && leaf.env) {
      doc += ` Secret: also ${code(`${leaf.env}_FILE`)} or credential ${code(credentialNameFor(leaf.env))}.`;
    }
    out.push(`| ${[code(key), env, flag, dflt, leaf.format.describe, doc].map(cell).join(' | ')} |`);
  }
  out.push('', '### Routes', '', 'Each element of `routes` (or of the `routesFile` array); missing keys take the default shown.', '');
  out.push('| Key | Default | Description |', '| --- | --- | --- |');
  for (const [key, value] of Object.entries(DEFAULT_ROUTE)) {
    const doc = ROUTE_DOCS[key as keyof typeof DEFAULT_ROUTE];
    out.push(`| ${[code(key), key === 'topic' ? 'required' : code(JSON.stringify(value)), doc].map(cell).join(' | ')} |`);
  }
  out.push(`| ${[code('deadband'), 'none', ROUTE_DOCS.deadband].map(cell).join(' | ')} |`);
  out.push(
    '',
    '### Extra sinks',
    '',
    'Each element of `sinks.extra` is `{"name": …, "type": "influx" | "redis", …}` with the keys (and defaults) of `sinks.influx` or',
    '`sinks.redis` above, including `enabled`, `batch` and `resilience`. Names match `/^[a-z][a-z0-9_-]*$/`, are unique, and may not',
    'be `influx` / `redis` while that default sink is enabled. The sinks list is: `influx` (if enabled), `redis` (if enabled), then the extras.',
  );
  return `${out.join('\n')}\n`;
}

/** The generated section of a document, without the markers; undefined if the markers are missing. */
export function extractReference(doc: string): string | undefined {
  const start = doc.indexOf(REFERENCE_START);
  const end = doc.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return undefined;
  return doc.slice(start + REFERENCE_START.length, end).replace(/^\n/, '');
}

/** `doc` with the section between the markers replaced (markers appended when missing). */
export function spliceReference(doc: string, section: string): string {
  const block = `${REFERENCE_START}\n${section}${REFERENCE_END}`;
  const start = doc.indexOf(REFERENCE_START);
  const end = doc.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return `${doc}${doc === '' || doc.endsWith('\n') ? '' : '\n'}\n${block}\n`;
  return doc.slice(0, start) + block + doc.slice(end + REFERENCE_END.length);
}
