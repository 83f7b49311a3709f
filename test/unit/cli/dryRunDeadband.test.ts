import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { dryRun } from '../../../src/cli/dryRun.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';

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

describe('--dry-run with a deadband', () => {
  it('a sequence of messages shows what each sink gets and what is held back', () => {
    const deadband = { absolute: 0.2, maxIntervalMs: 300_000, writePrevious: true, sinks: ['influx'] };
    const config = loadConfig({
      argv: [],
      env: { EDGEBRIDGE_GATEWAY_ID: 'edge-01', EDGEBRIDGE_ROUTES: JSON.stringify([{ topic: 'sensors/{device}/{measurement}', deadband }]) },
    });
    const input = [
      'sensors/dev1/climate {"t":21.5,"ts":1736942400000}',
      'sensors/dev1/climate {"t":21.6,"ts":1736942401000}',
      'sensors/dev1/climate {"t":22.5,"ts":1736942402000}',
      'sensors/dev1/climate {"t":22.5,"ts":1736942702000}',
    ].join('\n');
    const out = sink();
    const summary = dryRun({ config, input, out: out.stream, now: 1736942400000 });
    assert.equal(summary.ok, 4);
    const text = out.text();
    const influx = text.split('\n').filter((l) => l.startsWith('  influx: '));
    assert.deepEqual(influx, [
      '  influx: climate,device=dev1,gateway=edge-01 t=21.5 1736942400000000',
      '  influx: climate,device=dev1,gateway=edge-01 t=21.6 1736942401000000', // the last held back, before the step
      '  influx: climate,device=dev1,gateway=edge-01 t=22.5 1736942402000000',
      '  influx: climate,device=dev1,gateway=edge-01 t=22.5 1736942702000000', // heartbeat
    ]);
    assert.match(
      text,
      /2: .*\n {2}route 1 .* → redis\n(?: {2}redis: .*\n)+ {2}suppressed for influx: climate,device=dev1,gateway=edge-01 t=21\.6 \(deadband\)\n/,
    );
    assert.equal(text.split('\n').filter((l) => l.startsWith('  redis: XADD')).length, 4, 'Redis gets every message');
  });
});
