import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { runCli, type CliOutcome } from '../../../src/cli/runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eb-cli-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const configFile = join(dir, 'c.json');
writeFileSync(configFile, JSON.stringify({ gatewayId: 'gw-cli', spool: { dir: join(dir, 'spool') } }));

function cli(argv: string[], env: Record<string, string> = {}): { outcome: CliOutcome; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (add(String(chunk)), cb()) });
  const outcome = runCli({ argv, env, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { outcome, stdout, stderr };
}

describe('the command line refuses what it does not understand', () => {
  it('the command after options: --config F check-config checks, it does not start the gateway', () => {
    const r = cli(['--config', configFile, 'check-config']);
    assert.deepEqual(r.outcome, { kind: 'exit', code: 0 });
    assert.match(r.stdout, /configuration OK/);
    assert.match(r.stdout, /gw-cli/);
    assert.equal(cli(['--gateway-id', 'gw9', 'print-config']).outcome.kind, 'exit');
    assert.equal(cli(['--mqtt-clean', 'check-config']).outcome.kind, 'exit');
  });

  it('a misspelt flag: exit 2 with the usage and the likely intended flag', () => {
    const r = cli(['--http-prot', '9100']);
    assert.deepEqual(r.outcome, { kind: 'exit', code: 2 });
    assert.match(r.stderr, /unknown option "--http-prot" \(did you mean "--http-port"\?\)/);
    assert.match(r.stderr, /Usage:/);
    assert.deepEqual(cli(['check-config', '--http-prot=9100']).outcome, { kind: 'exit', code: 2 });
    assert.deepEqual(cli(['-x']).outcome, { kind: 'exit', code: 2 });
    assert.deepEqual(cli(['--no-http-port']).outcome, { kind: 'exit', code: 2 }, '--no- only for booleans');
  });

  it('an unknown command anywhere, or a second word: exit 2, never the gateway', () => {
    for (const argv of [
      ['chek-config'],
      ['--config', configFile, 'frobnicate'],
      ['check-config', 'print-config'],
      ['run', 'extra'],
      ['--', 'x'],
    ]) {
      const r = cli(argv);
      assert.deepEqual(r.outcome, { kind: 'exit', code: 2 }, argv.join(' '));
      assert.match(r.stderr, /Usage:/);
    }
    assert.match(cli(['chek-config']).stderr, /unknown command "chek-config" \(did you mean "check-config"\?\)/);
  });

  it('what it understands still works: run (explicit or implied), flags with values, --no-<boolean>, --dry-run', () => {
    assert.equal(cli(['--config', configFile]).outcome.kind, 'run');
    assert.equal(cli(['run', '--config', configFile, '--http-port', '9100', '--no-mqtt-clean']).outcome.kind, 'run');
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'sensors/d1/climate {"t":1}\n');
    const dry = cli(['--config', configFile, '--dry-run', input]);
    assert.deepEqual(dry.outcome, { kind: 'exit', code: 0 }, dry.stderr);
    assert.deepEqual(cli(['check-config', '--dry-run', input]).outcome, { kind: 'exit', code: 2 });
    assert.deepEqual(cli(['--help']).outcome, { kind: 'exit', code: 0 });
  });

  it('a flag without its value is still a configuration error (78)', () => {
    assert.deepEqual(cli(['--http-port']).outcome, { kind: 'exit', code: 78 });
  });

  it('a route field path the decoder cannot use fails check-config with 78, not the gateway at start with 1', () => {
    const r = cli(['check-config'], { EDGEBRIDGE_ROUTES: '[{"topic":"a/{measurement}","fields":["a..b"]}]' });
    assert.deepEqual(r.outcome, { kind: 'exit', code: 78 });
    assert.match(r.stderr, /routes\[0\]\.fields/);
    assert.match(r.stderr, /a\.\.b/);
    assert.match(r.stderr, /EDGEBRIDGE_ROUTES/);
  });

  it('an empty config file and a misspelt variable: 78 naming them', () => {
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    const r = cli(['check-config', '--config', empty]);
    assert.deepEqual(r.outcome, { kind: 'exit', code: 78 });
    assert.match(r.stderr, new RegExp(`config file "${empty}": is empty`));
    const v = cli(['check-config'], { EDGEBRIDGE_HTTP_PROT: '1' });
    assert.deepEqual(v.outcome, { kind: 'exit', code: 78 });
    assert.match(v.stderr, /EDGEBRIDGE_HTTP_PROT.*EDGEBRIDGE_HTTP_PORT/);
  });
});

describe('check-config checks that the spool directory can be written', () => {
  it('a spool.dir under a regular file: 78 naming spool.dir', () => {
    const plain = join(dir, 'plain-file');
    writeFileSync(plain, 'x');
    const r = cli(['check-config'], { EDGEBRIDGE_SPOOL_DIR: join(plain, 'spool') });
    assert.deepEqual(r.outcome, { kind: 'exit', code: 78 }, r.stdout);
    assert.match(r.stderr, /spool\.dir/);
    assert.match(r.stderr, /is not a directory/);
    assert.match(r.stderr, /EDGEBRIDGE_SPOOL_DIR/);
  });

  it('a directory that is not writable (an injected fs: root passes every access check)', async () => {
    const { checkSpoolDir } = await import('../../../src/cli/checkSpoolDir.ts');
    const denied = {
      statSync: () => ({ isDirectory: () => true }),
      accessSync: () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
    };
    assert.throws(() => checkSpoolDir('/var/lib/edgebridge/spool', denied as never), /spool\.dir.*is not writable \(EACCES\)/);
  });

  it('a directory that does not exist yet but can be created, and a memory spool: OK', () => {
    assert.deepEqual(cli(['check-config'], { EDGEBRIDGE_SPOOL_DIR: join(dir, 'not', 'yet') }).outcome, { kind: 'exit', code: 0 });
    const plain = join(dir, 'plain-file2');
    writeFileSync(plain, 'x');
    assert.deepEqual(cli(['check-config'], { EDGEBRIDGE_SPOOL_DIR: join(plain, 'x'), EDGEBRIDGE_SPOOL_TYPE: 'memory' }).outcome, {
      kind: 'exit',
      code: 0,
    });
  });
});
