import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log/createLogger.ts';
import { CollapsingLog } from '../../../src/log/CollapsingLog.ts';
import { redactUrlsInText } from '../../../src/log/redactUrlsIn.ts';
import { memoryLogger } from '../../fakes/silentLogger.ts';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines with a level label and redacts secrets by name and inside URLs', async () => {
    const { stream, text } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    logger.info({ password: 'p4ss', sink: { token: 'tok' }, url: 'mqtt://bob:hunter2@broker:1883' }, 'hello');
    logger.warn({ err: new Error('connect to redis://:s3cret@10.0.0.1:6379 failed') }, 'oops');
    logger.debug('not shown');
    await new Promise((r) => setImmediate(r));
    const out = text();
    const [first, second] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(first!.level, 'info');
    assert.equal(first!.password, '[redacted]');
    assert.deepEqual(first!.sink, { token: '[redacted]' });
    assert.equal(first!.url, 'mqtt://bob:[redacted]@broker:1883');
    assert.match(JSON.stringify(second), /redis:\/\/:\[redacted\]@10\.0\.0\.1/);
    for (const secret of ['p4ss', 'tok"', 'hunter2', 's3cret']) assert.ok(!out.includes(secret), secret);
    assert.ok(!out.includes('not shown'));
  });
});

describe('redactUrlsInText', () => {
  it('masks user:password and Redis bare passwords anywhere in a text, leaves the rest', () => {
    assert.equal(redactUrlsInText('a mqtts://u:p@h:8883/x and b'), 'a mqtts://u:[redacted]@h:8883/x and b');
    assert.equal(redactUrlsInText('rediss://pw@h:6380'), 'rediss://[redacted]@h:6380');
    assert.equal(redactUrlsInText('http://h:8086/api'), 'http://h:8086/api');
    assert.equal(redactUrlsInText('no url here'), 'no url here');
  });
});

describe('CollapsingLog', () => {
  it('logs the first of identical warnings, counts the repeats, and prints one line per interval with the count', () => {
    let now = 0;
    const { logger, lines } = memoryLogger();
    const log = new CollapsingLog({ logger, intervalMs: 10_000, now: () => now });
    for (let i = 0; i < 100; i++) {
      log.warn('k', { topic: 't' }, 'bad');
      now += 10;
    }
    log.warn('other', {}, 'different');
    assert.equal(lines().length, 2);
    now = 20_000;
    log.warn('k', { topic: 't' }, 'bad');
    const all = lines();
    assert.equal(all.length, 3);
    assert.equal(all[2]!.repeated, 99);
  });
});
