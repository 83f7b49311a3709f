import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FAST_CEILING_MS, ReconnectSchedule, STABLE_MS } from '../../../src/source/ReconnectSchedule.ts';

/** mulberry32: a seeded uniform [0, 1), so every run tests the same jitter. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A schedule on a fake clock: `clock.t` is advanced by the test. */
function scheduleOn(opts: { minMs?: number; maxMs?: number; random?: () => number } = {}) {
  const clock = { t: 1_000_000 };
  const s = new ReconnectSchedule({
    minMs: opts.minMs ?? 300,
    maxMs: opts.maxMs ?? 30_000,
    now: () => clock.t,
    random: opts.random ?? seeded(1),
  });
  return { s, clock };
}

/**
 * The gateway against a broker that is down until `returnsAt` (ms after the disconnect at clock 0): each failed
 * attempt takes `attemptMs` (a refused connect), then waits the schedule's next delay. Returns how long after
 * `returnsAt` the first attempt that finds the broker starts.
 */
function waitAfterReturn(s: ReconnectSchedule, clock: { t: number }, returnsAt: number, attemptMs = 5): number {
  const start = clock.t;
  let at = start + s.next();
  while (at < start + returnsAt) {
    clock.t = at + attemptMs;
    at = clock.t + s.next();
  }
  clock.t = at;
  return at - (start + returnsAt);
}

describe('ReconnectSchedule', () => {
  it('the first attempt comes after a jittered half to all of minMs', () => {
    assert.equal(scheduleOn({ random: () => 0 }).s.next(), 150);
    assert.equal(scheduleOn({ random: () => 0.999_999 }).s.next(), 300);
    const { s } = scheduleOn({ random: seeded(7) });
    const firsts = Array.from({ length: 200 }, () => {
      const d = s.next();
      s.reset();
      return d;
    });
    assert.ok(
      firsts.every((d) => d >= 150 && d <= 300),
      firsts.join(','),
    );
    assert.ok(new Set(firsts).size > 50, 'jittered');
  });

  it('grows only while attempts fail, and a connect starts it over', () => {
    const { s, clock } = scheduleOn({ random: () => 0.999_999 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = s.next();
      delays.push(d);
      clock.t += d;
    }
    assert.deepEqual(delays, [300, 600, 750, 750, 750, 750]);
    s.connected();
    clock.t += STABLE_MS;
    assert.equal(s.next(), 300, 'after a connection that stayed up the next outage starts from minMs');
  });

  it('a connection dropped within a second is a failed attempt: two gateways with one client id slow down', () => {
    const { s, clock } = scheduleOn({ random: () => 0.999_999 });
    const delays: number[] = [];
    // Each connect is kicked off 50 ms later by the other gateway taking over the id.
    while (clock.t < 1_000_000 + 20 * 60_000) {
      const d = s.next();
      delays.push(d);
      clock.t += d;
      s.connected();
      clock.t += 50;
    }
    assert.deepEqual(delays.slice(0, 4), [300, 600, 750, 750], 'not back to 300 after each kick');
    assert.ok(delays.at(-1)! >= 15_000, `after 20 minutes of it: ${delays.at(-1)} ms between attempts`);
    assert.ok(delays.length < 400, `${delays.length} connects in 20 minutes (was one per 150–300 ms)`);
  });

  it(`stays at most ${FAST_CEILING_MS} ms for 45 s of an outage, then at most 1/60 of it, up to maxMs`, () => {
    const { s, clock } = scheduleOn({ random: seeded(3) });
    const start = clock.t;
    let longest = 0;
    while (clock.t - start < 45_000) {
      const d = s.next();
      longest = Math.max(longest, d);
      clock.t += d + 5;
    }
    assert.ok(longest <= FAST_CEILING_MS, `longest delay in the first 45 s: ${longest}`);
    while (clock.t - start < 60_000) {
      const d = s.next();
      longest = Math.max(longest, d);
      clock.t += d + 5;
    }
    assert.ok(longest <= 1000, `longest delay in the first minute: ${longest}`);
    clock.t = start + 10 * 60_000;
    assert.equal(s.ceiling(), 10_000, 'after 10 minutes');
    clock.t = start + 29 * 60_000;
    assert.ok(s.next() <= 29_000);
    clock.t = start + 3 * 3600_000;
    assert.equal(s.ceiling(), 30_000, 'never above maxMs');
    const d = s.next();
    assert.ok(d >= 15_000 && d <= 30_000, `${d}`);
  });

  it('a broker back after an outage of up to a minute is tried within 1 s, mostly within 0.45 s (1000 outages, seeded)', () => {
    const random = seeded(42);
    const waits: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const { s, clock } = scheduleOn({ random });
      waits.push(waitAfterReturn(s, clock, 100 + random() * 59_900));
    }
    waits.sort((a, b) => a - b);
    assert.ok(waits.at(-1)! <= 1000, `worst ${waits.at(-1)} ms`);
    assert.ok(waits[500]! < 450, `median ${waits[500]} ms`);
  });

  it('a broker that flapped (six restarts 2–3 s apart, issue 16) is still tried within 1 s once back for good', () => {
    const random = seeded(5);
    for (let run = 0; run < 200; run++) {
      const { s, clock } = scheduleOn({ random });
      // Six short outages, each ended by a connect (reset) that the next restart breaks again.
      for (let i = 0; i < 6; i++) {
        waitAfterReturn(s, clock, 200 + random() * 800);
        s.connected();
        clock.t += 1500 + random() * 1000;
      }
      // A connect that never succeeds on a flapping broker (it dies before CONNACK) is a failure: no reset.
      const wait = waitAfterReturn(s, clock, 20_000 + random() * 40_000);
      assert.ok(wait <= 1000, `run ${run}: ${wait} ms after the return`);
    }
  });

  it('keeps a fleet apart: 100 gateways that lost the broker together do not come back in lockstep', () => {
    const random = seeded(9);
    // Each gateway's first attempt after the broker returns at 30 s: spread over most of the ceiling, no crowd.
    const firsts = Array.from({ length: 100 }, () => {
      const { s, clock } = scheduleOn({ random });
      return waitAfterReturn(s, clock, 30_000);
    });
    const spread = Math.max(...firsts) - Math.min(...firsts);
    assert.ok(spread > 500, `first attempts after the return spread over ${spread} ms`);
    const per50ms = new Map<number, number>();
    for (const f of firsts) per50ms.set(Math.floor(f / 50), (per50ms.get(Math.floor(f / 50)) ?? 0) + 1);
    assert.ok(Math.max(...per50ms.values()) <= 20, `at most 20 of 100 in one 50 ms: ${[...per50ms.values()].join(',')}`);
  });

  it('honours a larger minMs and a smaller maxMs, and refuses nonsense', () => {
    const big = scheduleOn({ minMs: 5000, random: () => 0.999_999 });
    assert.equal(big.s.next(), 5000);
    assert.equal(big.s.next(), 5000, 'minMs above the fast ceiling: the ceiling is minMs for the first minute');
    const small = scheduleOn({ minMs: 100, maxMs: 400, random: () => 0.999_999 });
    assert.deepEqual([small.s.next(), small.s.next(), small.s.next()], [100, 200, 400]);
    assert.throws(() => new ReconnectSchedule({ minMs: 0, maxMs: 10 }), RangeError);
    assert.throws(() => new ReconnectSchedule({ minMs: 10, maxMs: 5 }), RangeError);
  });
});
