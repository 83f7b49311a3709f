import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until done; gives up (logging it) when the progress figure has not moved for stallMs. */
export async function waitSettled(
  what: string,
  stallMs: number,
  log: (line: string) => void,
  poll: () => Promise<{ done: boolean; progress: number }>,
): Promise<void> {
  let last = Number.NaN;
  let movedAt = performance.now();
  let loggedAt = performance.now();
  while (true) {
    const { done, progress } = await poll();
    if (done) return;
    const now = performance.now();
    if (progress !== last) {
      last = progress;
      movedAt = now;
    } else if (now - movedAt > stallMs) {
      log(`${what}: no progress for ${stallMs / 1000} s (at ${progress}); checking what there is`);
      return;
    }
    if (now - loggedAt > 5000) {
      log(`… ${what}: ${progress}`);
      loggedAt = now;
    }
    await sleep(250);
  }
}

/** Counts until the expected figure shows up (the store may take a moment to make writes visible) or timeoutMs passes. */
export async function waitCount(count: () => Promise<number>, expected: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const got = await count();
    if (got === expected || performance.now() > deadline) return got;
    await sleep(1000);
  }
}
