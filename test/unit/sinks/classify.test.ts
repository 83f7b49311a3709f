import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError, RequestTimedOutError } from '../../../src/sinks/influx/influxClient.ts';
import { classifyInfluxError, parseRetryAfter } from '../../../src/sinks/influx/classifyInfluxError.ts';
import { classifyRedisError } from '../../../src/sinks/redis/classifyRedisError.ts';
import { redisKeyPart } from '../../../src/sinks/redis/redisKeyPart.ts';
import { batchOf, entryLines, splitBatch } from '../../../src/spool/Batch.ts';

const http = (status: number, headers: Record<string, string> = {}) =>
  new HttpError(status, 'x', 'body', headers['retry-after'], 'text/plain', undefined, headers);

describe('classifyInfluxError (as Telegraf influxdb_v2)', () => {
  const cases: [number, string, boolean][] = [
    [400, 'data', false],
    [422, 'data', false],
    [405, 'data', false],
    [401, 'auth', true],
    [403, 'auth', true],
    [404, 'auth', true],
    [413, 'too_large', false],
    [429, 'throttled', true],
    [500, 'unavailable', true],
    [502, 'unavailable', true],
    [503, 'unavailable', true],
  ];
  for (const [status, kind, retryable] of cases) {
    it(`${status} → ${kind}, ${retryable ? 'kept' : 'rejected'}`, () => {
      const e = classifyInfluxError(http(status));
      assert.equal(e.kind, kind);
      assert.equal(e.retryable, retryable);
      assert.equal(e.status, status);
    });
  }
  it('timeouts and network errors are retried', () => {
    assert.equal(classifyInfluxError(new RequestTimedOutError()).kind, 'timeout');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.deepEqual([classifyInfluxError(refused).kind, classifyInfluxError(refused).retryable], ['unavailable', true]);
  });
  it('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(classifyInfluxError(http(429, { 'retry-after': '3' })).retryAfterMs, 3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('garbage', now), 0);
    assert.equal(parseRetryAfter(undefined, now), 0);
  });
});

describe('classifyRedisError', () => {
  const reply = (m: string) => Object.assign(new Error(m), { name: 'ReplyError' });
  it('keeps the batch on connection loss, timeouts, transient states and auth errors', () => {
    for (const e of [
      new Error('Connection is closed.'),
      new Error('Command timed out'),
      reply('LOADING Redis is loading'),
      reply('OOM command not allowed'),
      reply("READONLY You can't write"),
      reply('NOAUTH Authentication required.'),
      reply('WRONGPASS invalid username-password pair'),
    ]) {
      assert.equal(classifyRedisError(e).retryable, true, e.message);
    }
    assert.equal(classifyRedisError(reply('NOPERM this user has no permissions')).kind, 'auth');
  });
  it('rejects on data errors', () => {
    const e = classifyRedisError(reply('WRONGTYPE Operation against a key holding the wrong kind of value'));
    assert.deepEqual([e.kind, e.retryable], ['data', false]);
  });
  it('a write refused while a TLS handshake fails names the TLS key to check, and keeps the batch', () => {
    const handshake = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const e = classifyRedisError(
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      handshake,
      'sinks.extra[name=edge].tls',
    );
    assert.deepEqual([e.kind, e.retryable], ['unavailable', true]);
    assert.match(
      e.message,
      /^Redis unavailable: TLS: server certificate not accepted \(SELF_SIGNED_CERT_IN_CHAIN: .+\); check sinks\.extra\[name=edge\]\.tls\.caFile/,
    );
  });
});

describe('redisKeyPart', () => {
  it('passes safe names through and %-encodes separators, braces, blanks and %', () => {
    assert.equal(redisKeyPart('dev-1.a_b'), 'dev-1.a_b');
    assert.equal(redisKeyPart('a:b{c}d e%f\n'), 'a%3Ab%7Bc%7Dd%20e%25f%0A');
    assert.equal(redisKeyPart('température'), 'température');
  });
});

describe('splitBatch', () => {
  it('halves by entries, and a single entry by lines (newlines inside string fields respected)', () => {
    const info = { origin: 'o', firstReceivedAt: 1, lastReceivedAt: 2, end: 9 };
    const b = batchOf(['a v=1', 'b v=2', 'c v=3'], { ...info, positions: [10, 20, 30] });
    assert.equal(b.text.toString(), 'a v=1\nb v=2\nc v=3\n');
    assert.deepEqual(b.ends, [5, 11, 17]);
    const [x, y] = splitBatch(b)!;
    assert.deepEqual([entryLines(x), entryLines(y)], [['a v=1'], ['b v=2', 'c v=3']]);
    assert.deepEqual([x.points, y.points, x.end], [1, 2, 9]);
    assert.deepEqual([x.positions, y.positions], [[10], [20, 30]]);
    const one = batchOf(['a s="x\ny" 1\nb v=2 2'], { ...info, positions: [7] });
    assert.equal(one.points, 2);
    const [p, q] = splitBatch(one)!;
    assert.deepEqual([entryLines(p), entryLines(q)], [['a s="x\ny" 1'], ['b v=2 2']]);
    assert.deepEqual([p.positions, q.positions], [[7], [7]]);
    assert.equal(splitBatch(batchOf(['a v=1'], { ...info, positions: [1] })), undefined);
  });

  it('entry offsets are bytes: multi-byte text splits where it should', () => {
    const b = batchOf(['m s="é€😀" 1', 'n v=2 2'], { origin: 'o', firstReceivedAt: 1, lastReceivedAt: 2, end: 9, positions: [1, 2] });
    assert.deepEqual(entryLines(b), ['m s="é€😀" 1', 'n v=2 2']);
    const [x, y] = splitBatch(b)!;
    assert.deepEqual([entryLines(x), entryLines(y)], [['m s="é€😀" 1'], ['n v=2 2']]);
  });
});
