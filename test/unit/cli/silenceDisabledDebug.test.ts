import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Which `debug` a require('debug') gets after mqtt.js loaded, in a fresh process (hooks are process-wide). */
function debugSeenByMqttPacket(env: NodeJS.ProcessEnv): string {
  const script = `
    import { createRequire } from 'node:module';
    import { silenceDisabledDebug } from './src/cli/silenceDisabledDebug.ts';
    silenceDisabledDebug(process.env);
    await import('mqtt');
    const require = createRequire(import.meta.url);
    const debug = require('debug'); // as mqtt-packet's own require('debug') sees it
    console.log(debug.names.length === 0 && debug('x').extend('y') === debug('z') ? 'noop' : 'real');
  `;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  }).trim();
}

describe('silenceDisabledDebug', () => {
  it('gives mqtt.js and mqtt-packet a no-op debug when DEBUG is not set', () => {
    assert.equal(debugSeenByMqttPacket({}), 'noop');
  });

  it('leaves the real debug package when DEBUG is set (an operator tracing a library)', () => {
    assert.equal(debugSeenByMqttPacket({ DEBUG: 'mqttjs*' }), 'real');
  });
});
