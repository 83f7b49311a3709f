import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { dryRun, extractDryRun } from '../../../src/cli/dryRun.ts';
import { extractPropertyFlags } from '../../../src/cli/propertyFlags.ts';
import { runCli } from '../../../src/cli/runCli.ts';
import { DataType } from '../../../src/sparkplug/DataType.ts';
import { encodePayload } from '../../../src/sparkplug/SparkplugCodec.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AT = Date.parse('2025-01-15T12:00:00.123Z');

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

function config(env: Record<string, string> = {}, argv: string[] = []) {
  return loadConfig({ argv, env: { EDGEBRIDGE_GATEWAY_ID: 'edge-01', ...env } });
}

describe('--dry-run', () => {
  it('prints the line protocol and the Redis writes of the README quick-start message', () => {
    const out = sink();
    const summary = dryRun({ config: config(), input: 'sensors/dev1/climate {"t":21.5,"h":40}\n', out: out.stream, now: AT });
    assert.deepEqual(summary, { messages: 1, ok: 1, points: 1, rejected: 0, unrouted: 0, notSubscribed: 0 });
    assert.equal(
      out.text(),
      [
        '1: sensors/dev1/climate {"t":21.5,"h":40}',
        '  route 1 sensors/{device}/{measurement} [json] → 1 point(s) → influx, redis',
        '  influx: climate,device=dev1,gateway=edge-01 h=40,t=21.5 1736942400123000',
        '  redis: HSET eb:latest:{dev1}:climate h 40 t 21.5   (each field only if not older than eb:latest:{dev1}:climate:ts)',
        '  redis: HSET eb:latest:{dev1}:climate:ts h 1736942400123 t 1736942400123',
        '  redis: XADD eb:stream:{climate} MAXLEN ~ 100000 * ts 1736942400123 device dev1 gateway edge-01 h 40 t 21.5',
        '1 message(s): 1 decoded into 1 point(s), 0 rejected, 0 unrouted',
        '',
      ].join('\n'),
    );
  });

  it('reports rejections with reason, unrouted and unsubscribed topics; skips blank and # lines; honours route sinks', () => {
    const out = sink();
    const routes = JSON.stringify([
      { topic: 'plc/{line}/line', format: 'line', tags: { line: '{line}' }, timeUnit: 'ns', sinks: ['influx'] },
      { topic: 'home/{device}/{measurement}', format: 'number' },
    ]);
    const c = config({
      EDGEBRIDGE_ROUTES: routes,
      EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'plc/+/line:1,home/+/+:1',
      EDGEBRIDGE_REDIS_KEY_PREFIX: 'x:',
    });
    const input = [
      '# sample messages',
      '',
      'plc/l1/line press,station=s1 force=12.5,count=3i 1736942400000000000\r',
      'home/livingroom/temperature abc',
      'home/livingroom/motion true',
      'sensors/dev1/climate {"t":1}',
      'home/a/b/c 1',
    ].join('\n');
    const summary = dryRun({ config: c, input, out: out.stream, now: AT });
    assert.deepEqual(summary, { messages: 5, ok: 2, points: 2, rejected: 1, unrouted: 2, notSubscribed: 2 });
    const text = out.text();
    assert.match(
      text,
      /^3: plc\/l1\/line press,station=s1 force=12\.5,count=3i 1736942400000000000\n {2}route 1 plc\/\{line\}\/line \[line\] → 1 point\(s\) → influx\n {2}influx: press,gateway=edge-01,line=l1,station=s1 count=3i,force=12\.5 1736942400000000\n/m,
    );
    assert.ok(!/redis: .*press/.test(text), 'the line route writes to influx only');
    assert.match(
      text,
      /^4: home\/livingroom\/temperature abc\n {2}rejected: bad_number \(.*\) by route 2 home\/\{device\}\/\{measurement\}$/m,
    );
    assert.match(text, /redis: HSET x:latest:\{livingroom\}:motion value true /);
    assert.match(text, /^6: sensors\/dev1\/climate \{"t":1\}\n {2}not subscribed: .*\n {2}unrouted: no route matches$/m);
    assert.match(text, /^7: home\/a\/b\/c 1\n {2}not subscribed: .*\n {2}unrouted/m);
    assert.match(text, /5 message\(s\): 2 decoded into 2 point\(s\), 1 rejected, 2 unrouted, 2 on topics not subscribed\n$/);
  });

  it('issue 12: a topic with + or # is not routable; 000…1u decodes; an out-of-range integer is a rejection, not a stack trace', () => {
    const out = sink();
    const routes = JSON.stringify([{ topic: 'lp/{device}', format: 'line' }, { topic: 'sensors/{device}/{measurement}' }]);
    const c = config({ EDGEBRIDGE_ROUTES: routes, EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'lp/+:1,sensors/#:1' });
    const input = [
      'lp/d1 m v=000000000000000000001u',
      'lp/d1 m v=18446744073709551616u',
      'sensors/+/climate {"t":1}',
      'sensors/d1/# {"t":1}',
    ].join('\n');
    const summary = dryRun({ config: c, input, out: out.stream, now: AT });
    assert.deepEqual(summary, { messages: 4, ok: 1, points: 1, rejected: 1, unrouted: 2, notSubscribed: 0 });
    const text = out.text();
    assert.match(text, /influx: m,device=d1,gateway=edge-01 v=1u \d+\n/);
    assert.match(text, /^2: .*\n {2}rejected: bad_line /m);
    assert.match(text, /^3: sensors\/\+\/climate .*\n {2}unrouted: a published topic cannot contain "\+" or "#"$/m);
    assert.match(text, /^4: sensors\/d1\/# .*\n {2}unrouted: a published topic cannot contain/m);
  });

  it('quotes values redis-cli would split, and shows the encoded key parts', () => {
    const out = sink();
    dryRun({ config: config(), input: 'sensors/living:room/climate {"s":"a b","k":"Küche"}', out: out.stream, now: AT });
    assert.match(out.text(), /HSET eb:latest:\{living%3Aroom\}:climate k "Küche" s "a b"/);
    assert.match(
      out.text(),
      /XADD eb:stream:\{climate\} MAXLEN ~ 100000 \* ts 1736942400123 device living:room gateway edge-01 k "Küche" s "a b"/,
    );
  });

  it('extractDryRun takes --dry-run FILE, --dry-run=FILE and --dry-run - out of argv', () => {
    const none = { encoding: 'text', messages: [], error: undefined };
    assert.equal(extractDryRun(['--config', 'c.json']), undefined);
    assert.deepEqual(extractDryRun(['--dry-run', 'in.txt', '--config', 'c.json']), {
      ...none,
      file: 'in.txt',
      argv: ['--config', 'c.json'],
    });
    assert.deepEqual(extractDryRun(['--config', 'c.json', '--dry-run=-']), { ...none, file: '-', argv: ['--config', 'c.json'] });
    assert.deepEqual(extractDryRun(['--dry-run', '-']), { ...none, file: '-', argv: [] });
    assert.match(extractDryRun(['--dry-run', '--config', 'c.json'])!.error!, /takes a FILE/);
  });

  it('extractDryRun takes --payload-encoding and --topic/--payload… pairs in order; refuses what does not pair', () => {
    assert.deepEqual(extractDryRun(['--dry-run', 'cap.txt', '--payload-encoding', 'hex', '--gateway-id', 'g']), {
      file: 'cap.txt',
      encoding: 'hex',
      messages: [],
      error: undefined,
      argv: ['--gateway-id', 'g'],
    });
    const pairs = extractDryRun([
      '--dry-run',
      '--topic',
      'spBv1.0/p/NBIRTH/e',
      '--payload-file',
      'nbirth.bin',
      '--topic=a/b',
      '--payload-base64=AAE=',
      '--topic',
      'c/d',
      '--payload-hex',
      '0a0b',
      '--topic',
      'e/f',
      '--payload',
      '{"v":1}',
    ])!;
    assert.equal(pairs.error, undefined);
    assert.deepEqual(pairs.messages, [
      { topic: 'spBv1.0/p/NBIRTH/e', payload: { kind: 'file', path: 'nbirth.bin' } },
      { topic: 'a/b', payload: { kind: 'base64', value: 'AAE=' } },
      { topic: 'c/d', payload: { kind: 'hex', value: '0a0b' } },
      { topic: 'e/f', payload: { kind: 'text', value: '{"v":1}' } },
    ]);
    const error = (argv: string[]) => extractDryRun(['--dry-run', ...argv])!.error;
    assert.match(error(['--topic', 'a', '--topic', 'b', '--payload', 'x'])!, /--topic a has no payload/);
    assert.match(error(['--topic', 'a'])!, /--topic a has no payload/);
    assert.match(error(['--payload-hex', '00'])!, /must follow a --topic/);
    assert.match(error(['f.txt', '--topic', 'a', '--payload', 'x'])!, /not both/);
    assert.match(error(['f.txt', '--payload-encoding', 'binary'])!, /expected text, hex, base64/);
    assert.match(error(['--topic'])!, /--topic takes a value/);
  });

  it('explains captured Sparkplug payloads (mosquitto_sub -F "%t %x"): the DBIRTH gives the DDATA its aliases', () => {
    const c = config({
      EDGEBRIDGE_ROUTES_FILE: path.join(ROOT, 'config/routes/sparkplug.json'),
      EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'spBv1.0/#:1',
    });
    const T = 1736942400000;
    const nbirth = encodePayload({ timestamp: T, seq: 0, metrics: [{ name: 'bdSeq', datatype: DataType.UInt64, long_value: 0 }] });
    const dbirth = encodePayload({
      timestamp: T,
      seq: 1,
      metrics: [
        {
          name: 'Temperature',
          alias: 7,
          datatype: DataType.Float,
          float_value: 20.5,
          properties: { keys: ['engUnit'], values: [{ type: DataType.String, string_value: 'C' }] },
        },
      ],
    });
    const ddata = encodePayload({ timestamp: T + 1000, seq: 2, metrics: [{ alias: 7, float_value: 21.25 }] });
    const capture = [
      `spBv1.0/plant/NBIRTH/edge1 ${nbirth.toString('hex')}`,
      `spBv1.0/plant/DBIRTH/edge1/oven ${dbirth.toString('hex')}`,
      `spBv1.0/plant/DDATA/edge1/oven ${ddata.toString('hex')}`,
      `spBv1.0/plant/DDATA/edge1/oven ${encodePayload({ seq: 3, metrics: [{ alias: 8, float_value: 1 }] }).toString('hex')}`,
      'spBv1.0/plant/DDATA/edge1/oven 0a0',
    ].join('\n');
    const out = sink();
    const summary = dryRun({ config: c, input: capture, encoding: 'hex', out: out.stream, now: AT });
    assert.deepEqual(summary, { messages: 5, ok: 3, points: 5, rejected: 2, unrouted: 0, notSubscribed: 0 });
    const text = out.text();
    assert.match(text, new RegExp(`^3: spBv1.0/plant/DDATA/edge1/oven \\(${ddata.length} bytes, hex\\)$`, 'm'));
    assert.match(
      text,
      /influx: sparkplug,device=plant\/edge1\/oven,engUnit=C,gateway=edge-01,group=plant,node=edge1 Temperature=21.25 1736942401000000/,
    );
    assert.match(text, /^4: .*\n {2}rejected: sparkplug_unknown_alias \(DDATA metric 0: alias 8 is not in the last BIRTH\)/m);
    assert.match(text, /^5: spBv1.0\/plant\/DDATA\/edge1\/oven\n {2}unreadable: the payload is not hex/m);

    // The same as base64.
    const b64 = sink();
    const again = capture
      .split('\n')
      .slice(0, 3)
      .map((l) => {
        const [topic, hex] = l.split(' ');
        return `${topic} ${Buffer.from(hex!, 'hex').toString('base64')}`;
      });
    assert.equal(dryRun({ config: c, input: again.join('\n'), encoding: 'base64', out: b64.stream, now: AT }).ok, 3);
    assert.match(b64.text(), /Temperature=21.25 1736942401000000/);
  });

  it('--user-property NAME=VALUE (repeatable) and --content-type TYPE give every message MQTT 5 properties', () => {
    assert.deepEqual(extractPropertyFlags(['--config', 'c.json']), { properties: undefined, argv: ['--config', 'c.json'], error: '' });
    assert.deepEqual(
      extractPropertyFlags([
        '--user-property',
        'site=a=b',
        '--content-type=text/plain',
        '--user-property=site=c',
        '--user-property',
        'k=',
        '-x',
      ]),
      { properties: { contentType: 'text/plain', userProperties: { site: ['a=b', 'c'], k: '' } }, argv: ['-x'], error: '' },
    );
    assert.match(extractPropertyFlags(['--user-property', 'site']).error, /NAME=VALUE, got "site"/);
    assert.match(extractPropertyFlags(['--content-type']).error, /takes a value/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-dry-props-'));
    const input = path.join(dir, 'in.txt');
    fs.writeFileSync(input, 'plant/d1 {"t":1}\n');
    const env = {
      EDGEBRIDGE_GATEWAY_ID: 'g',
      EDGEBRIDGE_REDIS_ENABLED: 'false',
      EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'plant/+:1',
      EDGEBRIDGE_ROUTES: JSON.stringify([
        { topic: 'plant/{device}', measurement: '{$user.kind}', tags: { site: '{$user.site}', ct: '{$contentType}' } },
      ]),
    };
    const run = (argv: string[]) => {
      const stdout = sink();
      const stderr = sink();
      const outcome = runCli({ argv, env, stdout: stdout.stream, stderr: stderr.stream });
      return { code: outcome.kind === 'exit' ? outcome.code : -1, stdout: stdout.text(), stderr: stderr.text() };
    };
    const ok = run([
      '--dry-run',
      input,
      '--user-property',
      'kind=climate',
      '--user-property',
      'site=a',
      '--user-property',
      'site=b',
      '--content-type',
      'x/y',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /\n {2}influx: climate,ct=x\/y,gateway=g,site=b t=1 \d+\n/);
    const missing = run(['--dry-run', input]);
    assert.equal(missing.code, 65);
    assert.match(missing.stdout, /rejected: missing_property \(measurement "\{\$user\.kind\}" needs user property "kind"/);
    const stray = run(['--user-property', 'kind=climate']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--user-property and --content-type go with --dry-run/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runCli: exit 0 when every line decodes, 65 otherwise, 66 for an unreadable file, 2 without FILE, 78 for a bad config', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-dry-'));
    const good = path.join(dir, 'good.txt');
    const bad = path.join(dir, 'bad.txt');
    fs.writeFileSync(good, 'sensors/d/m {"v":1}\n');
    fs.writeFileSync(bad, 'sensors/d/m [1]\n');
    const cli = (argv: string[], env: Record<string, string> = {}) => {
      const stdout = sink();
      const stderr = sink();
      const outcome = runCli({ argv, env: { EDGEBRIDGE_GATEWAY_ID: 'g', ...env }, stdout: stdout.stream, stderr: stderr.stream });
      assert.equal(outcome.kind, 'exit');
      return { code: outcome.kind === 'exit' ? outcome.code : -1, stdout: stdout.text(), stderr: stderr.text() };
    };
    assert.equal(cli(['--dry-run', good]).code, 0);
    const rejected = cli(['--dry-run', bad]);
    assert.equal(rejected.code, 65);
    assert.match(rejected.stdout, /rejected: not_object/);
    assert.equal(cli(['--dry-run', path.join(dir, 'missing.txt')]).code, 66);
    assert.equal(cli(['--dry-run']).code, 2);
    // Binary payloads from files, in order: the NBIRTH gives the NDATA its aliases.
    const T = 1736942400000;
    const nbirth = path.join(dir, 'nbirth.bin');
    fs.writeFileSync(
      nbirth,
      encodePayload({ timestamp: T, seq: 0, metrics: [{ name: 'Pressure', alias: 1, datatype: DataType.Double, double_value: 1 }] }),
    );
    fs.writeFileSync(path.join(dir, 'ndata.bin'), encodePayload({ timestamp: T, seq: 1, metrics: [{ alias: 1, double_value: 2.5 }] }));
    const sp = { EDGEBRIDGE_ROUTES_FILE: path.join(ROOT, 'config/routes/sparkplug.json'), EDGEBRIDGE_MQTT_SUBSCRIPTIONS: 'spBv1.0/#:1' };
    const pair = cli(
      [
        '--dry-run',
        '--topic',
        'spBv1.0/p/NBIRTH/e',
        '--payload-file',
        nbirth,
        '--topic',
        'spBv1.0/p/NDATA/e',
        '--payload-file',
        path.join(dir, 'ndata.bin'),
      ],
      sp,
    );
    assert.equal(pair.code, 0, pair.stdout + pair.stderr);
    assert.match(
      pair.stdout,
      new RegExp(`^1: spBv1.0/p/NBIRTH/e \\(\\d+ bytes from ${nbirth.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'),
    );
    assert.match(pair.stdout, /influx: sparkplug,device=p\/e,gateway=g,group=p,node=e Pressure=2.5 1736942400000000/);
    assert.equal(cli(['--dry-run', '--topic', 'spBv1.0/p/NDATA/e', '--payload-file', path.join(dir, 'none.bin')], sp).code, 66);
    const alone = cli(['--dry-run', '--topic', 'spBv1.0/p/NDATA/e', '--payload-hex', '1801'], sp);
    assert.equal(alone.code, 65);
    assert.match(alone.stdout, /rejected: sparkplug_no_birth/);
    assert.equal(cli(['--dry-run', '--payload-hex', '00']).code, 2);
    assert.equal(cli(['--topic', 'a', '--payload', 'x']).code, 2, 'without --dry-run they are unknown options');
    assert.equal(cli(['check-config', '--dry-run', good]).code, 2);
    const badConfig = cli(['--dry-run', good], { EDGEBRIDGE_MQTT_URL: 'ftp://x' });
    assert.equal(badConfig.code, 78);
    assert.match(badConfig.stderr, /mqtt\.url/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the built CLI reads stdin with "-" and connects nowhere', async () => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'dist/main.js'), '--dry-run', '-', '--config', path.join(ROOT, 'config/edgebridge.example.json')],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          EDGEBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1',
          EDGEBRIDGE_REDIS_URL: 'redis://127.0.0.1:1',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end('sensors/dev9/power {"w":5,"ts":1736942400000}\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /influx: power,device=dev9,gateway=edge-01,site=plant-a w=5 1736942400000000/);
    assert.match(stdout, /cloud: power,device=dev9/);
    assert.match(stdout, /redis: XADD eb:stream:\{power\}/);
  });
});
