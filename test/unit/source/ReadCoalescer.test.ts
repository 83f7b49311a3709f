import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Burst, HOLD_BELOW_MESSAGES } from '../../../src/source/Burst.ts';
import { ReadCoalescer } from '../../../src/source/ReadCoalescer.ts';
import type { Spool } from '../../../src/spool/Spool.ts';
import { SourceStats } from '../../../src/stats/SourceStats.ts';

type Stream = MqttClient['stream'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connected loopback pair: `send` writes on the server side, `client` is the socket under test. */
async function socketPair(): Promise<{ client: net.Socket; send: (b: Buffer) => void; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  const peer = await accepted;
  peer.setNoDelay(true);
  return {
    client,
    send: (b) => void peer.write(b),
    close: async () => {
      client.destroy();
      peer.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Sends `n` 100-byte writes 1 ms apart and counts the chunks the client reads (holding after each turn's). */
async function chunksFor(windowMs: number, n: number): Promise<{ chunks: number; bytes: number; ms: number }> {
  const pair = await socketPair();
  const coalescer = new ReadCoalescer({ windowMs });
  let chunks = 0;
  let bytes = 0;
  pair.client.on('data', (d: Buffer) => {
    chunks++;
    bytes += d.length;
    // As Burst does: once the turn's reads are handled.
    setImmediate(() => coalescer.hold(pair.client as unknown as Stream));
  });
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    pair.send(Buffer.alloc(100, 97));
    await sleep(1);
  }
  const ms = Date.now() - t0;
  const deadline = Date.now() + 5000;
  while (bytes < n * 100 && Date.now() < deadline) await sleep(5);
  await pair.close();
  return { chunks, bytes, ms };
}

describe('ReadCoalescer', () => {
  it('leaves the socket unread for the window: what arrives meanwhile comes in one read, nothing is lost', async () => {
    const off = await chunksFor(0, 60);
    const on = await chunksFor(25, 60);
    assert.equal(off.bytes, 6000);
    assert.equal(on.bytes, 6000);
    // One read per window at most (plus the last, and a few for a busy machine's scheduling), however long the
    // 60 writes took.
    const most = Math.ceil(on.ms / 25) + 3;
    assert.ok(on.chunks <= most, `coalesced: ${on.chunks} reads in ${on.ms} ms, at most ${most}`);
    assert.ok(off.chunks > on.chunks, `off ${off.chunks} > on ${on.chunks}`);
  });

  it('reads again after the window even when nothing arrives during it, and a later message is not held back', async () => {
    const pair = await socketPair();
    const coalescer = new ReadCoalescer({ windowMs: 20 });
    const got: number[] = [];
    pair.client.on('data', (d: Buffer) => {
      got.push(d.length);
      setImmediate(() => coalescer.hold(pair.client as unknown as Stream));
    });
    pair.send(Buffer.alloc(10));
    await sleep(60);
    const t0 = Date.now();
    pair.send(Buffer.alloc(20));
    while (got.length < 2 && Date.now() - t0 < 2000) await sleep(1);
    assert.deepEqual(got, [10, 20]);
    assert.ok(Date.now() - t0 < 15, 'the window had passed: read at once');
    await pair.close();
  });

  it('does nothing with a window of 0, and leaves a destroyed stream alone', async () => {
    const calls: string[] = [];
    const fake = {
      destroyed: false,
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
    } as unknown as Stream;
    new ReadCoalescer({ windowMs: 0 }).hold(fake);
    assert.deepEqual(calls, []);
    let fire: (() => void) | undefined;
    const held = new ReadCoalescer({ windowMs: 5, setTimer: (fn) => (fire = fn) });
    held.hold(fake);
    held.hold(fake); // already held: one timer
    assert.deepEqual(calls, ['pause']);
    (fake as unknown as { destroyed: boolean }).destroyed = true;
    fire?.();
    assert.deepEqual(calls, ['pause'], 'closed meanwhile: not resumed');
  });
});

describe('Burst and the read coalescing', () => {
  function burst(): { burst: Burst; held: Stream[] } {
    const held: Stream[] = [];
    const coalescer = { hold: (s: Stream | undefined) => s !== undefined && held.push(s) } as unknown as ReadCoalescer;
    const spool = { flush: () => true, discards: 0 } as unknown as Spool;
    const logger = { error: () => undefined } as unknown as Logger;
    return { burst: new Burst({ spool, stats: new SourceStats(), logger, coalescer }), held };
  }
  const stream = { cork: () => undefined, uncork: () => undefined } as unknown as Stream;
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('does not hold after a big burst: more is waiting, a pause would only idle the loop', async () => {
    const { burst: b, held } = burst();
    for (let i = 0; i < HOLD_BELOW_MESSAGES; i++) b.join(stream, false);
    await turn();
    assert.equal(held.length, 0);
    for (let i = 0; i < HOLD_BELOW_MESSAGES - 1; i++) b.join(stream, false);
    await turn();
    assert.equal(held.length, 1, 'the count starts again with each burst');
  });

  it('holds the socket after a burst of QoS 0 messages only', async () => {
    const { burst: b, held } = burst();
    b.join(stream, false);
    b.join(stream, false);
    await turn();
    assert.equal(held.length, 1, 'QoS 0 burst: held');
    b.join(stream, false);
    b.join(stream, true);
    await turn();
    assert.equal(held.length, 1, 'a QoS 1 message in the burst: the broker waits for our PUBACKs, not held');
    b.join(stream, false);
    await turn();
    assert.equal(held.length, 2, 'the next QoS 0 burst is held again');
  });
});
