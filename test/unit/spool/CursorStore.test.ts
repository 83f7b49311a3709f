import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CursorStore, type Position } from '../../../src/spool/disk/CursorStore.ts';

describe('CursorStore', () => {
  it('saves in the background at most once per interval, the latest position, and loads it back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-cursors-'));
    let position: Position = { segment: 1, offset: 10 };
    const errors: unknown[] = [];
    const store = new CursorStore({ dir, intervalMs: 50, positions: () => [['influx', position]], onError: (_s, e) => errors.push(e) });
    store.changed();
    position = { segment: 1, offset: 20 };
    store.changed(); // within the interval: one save, of the position at that moment
    // The save comes from a 50 ms timer: wait for it (a loaded machine can delay a timer by far more than 50 ms).
    for (let i = 0; i < 100 && store.load('influx') === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(store.load('influx'), { segment: 1, offset: 20 });
    position = { segment: 2, offset: 5 };
    store.changed();
    store.flush(); // synchronous, at close, not waiting for the interval
    assert.deepEqual(store.load('influx'), { segment: 2, offset: 5 });
    assert.deepEqual(errors, []);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['influx.json']);
  });
});
