/** Log lines of the sinks, against a real Redis: each key once (JSON readers keep only one of two, silently). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startRedis, waitFor, type RedisHandle } from '../harness/index.ts';
import { createLogger } from '../../src/log/createLogger.ts';
import { CollapsingLog } from '../../src/log/CollapsingLog.ts';
import { RedisSink } from '../../src/sinks/redis/RedisSink.ts';
import { redisSinkConfig } from '../fakes/redisSinkConfig.ts';

describe('sink log lines', () => {
  let rd: RedisHandle;
  before(async () => (rd = await startRedis()));
  after(() => rd?.destroy());

  it('"redis connected" carries "sink" once', async () => {
    const raw: string[] = [];
    const destination = new Writable({ write: (chunk, _enc, cb) => (raw.push(String(chunk)), cb()) });
    const root = createLogger({ level: 'info', destination });
    // As Gateway.ts builds it: the sink's logger is a child bound to its name.
    const sink = new RedisSink({
      config: redisSinkConfig(rd.url),
      logger: root.child({ sink: 'redis' }),
      collapsed: new CollapsingLog({ logger: root, intervalMs: 1000 }),
    });
    await sink.start();
    try {
      await waitFor(() => raw.join('').includes('redis connected'), { timeoutMs: 5000, message: () => raw.join('') });
      const line = raw
        .join('')
        .split('\n')
        .find((l) => l.includes('redis connected'))!;
      assert.equal(line.match(/"sink":/g)?.length, 1, line);
    } finally {
      await sink.stop();
    }
  });
});
