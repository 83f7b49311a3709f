import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ConnectionCap } from '../../../src/health/ConnectionCap.ts';

class FakeSocket extends EventEmitter {
  writableLength = 0;
  bytesWritten = 0;
  bytesRead = 0;
  destroyed = false;
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

const limits = { maxConnections: 3, maxPipelined: 2, maxUnreadBytes: 1000, stallMs: 2000 };
const sock = () => new FakeSocket() as unknown as Socket & FakeSocket;

describe('ConnectionCap', () => {
  it('closes a connection that pipelines more than maxPipelined requests from the same bytes', () => {
    const cap = new ConnectionCap(limits);
    const s = sock();
    cap.admit(s);
    s.bytesRead = 400;
    assert.equal(cap.request(s), true);
    assert.equal(cap.request(s), true);
    assert.equal(cap.request(s), true);
    assert.equal(cap.request(s), false);
    assert.equal(s.destroyed, true);
    assert.equal(cap.evictedBy.pipelined, 1);
  });

  it('a keep-alive client that reads each answer before asking again is never counted as pipelining', () => {
    const cap = new ConnectionCap(limits);
    const s = sock();
    cap.admit(s);
    for (let i = 1; i <= 50; i++) {
      s.bytesRead = i * 40;
      assert.equal(cap.request(s), true);
      cap.done(s);
    }
    assert.equal(s.destroyed, false);
  });

  it('closes a connection that leaves more than maxUnreadBytes unread', () => {
    const cap = new ConnectionCap(limits);
    const s = sock();
    cap.admit(s);
    s.bytesRead = 40;
    cap.request(s);
    s.writableLength = 5000;
    cap.done(s);
    assert.equal(s.destroyed, true);
    assert.equal(cap.evictedBy.unread, 1);
  });

  it('closes a connection that takes none of its unread answers for stallMs; one that reads slowly stays', () => {
    let now = 0;
    const cap = new ConnectionCap(limits, () => now);
    const stuck = sock();
    const slow = sock();
    cap.admit(stuck);
    cap.admit(slow);
    stuck.writableLength = slow.writableLength = 500;
    for (let t = 0; t <= 2000; t += 500) {
      now = t;
      slow.bytesWritten += 10;
      cap.sweep();
    }
    now = 2600;
    slow.bytesWritten += 10;
    cap.sweep();
    assert.equal(stuck.destroyed, true);
    assert.equal(slow.destroyed, false);
    assert.equal(cap.evictedBy.stalled, 1);
  });

  it('at the cap: the oldest idle goes first, else the one with most unread; refused only when all are busy and reading', () => {
    const cap = new ConnectionCap(limits);
    const [a, b, c] = [sock(), sock(), sock()];
    for (const s of [a, b, c]) cap.admit(s);
    for (const s of [a, b, c]) {
      s.bytesRead = 40;
      cap.request(s);
    }
    b.writableLength = 300;
    c.writableLength = 900;
    const d = sock();
    cap.admit(d);
    assert.equal(c.destroyed, true, 'most unread evicted');
    assert.equal(d.destroyed, false);
    cap.done(a); // a: idle now
    const e = sock();
    cap.admit(e);
    assert.equal(a.destroyed, true, 'idle evicted first');
    b.writableLength = 0;
    d.bytesRead = 40;
    cap.request(d);
    e.bytesRead = 40;
    cap.request(e);
    const f = sock();
    cap.admit(f);
    assert.equal(f.destroyed, true, 'all busy and reading: the newcomer is refused');
    assert.equal(cap.refused, 1);
  });
});
