import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldMemory } from '../../../../src/pipeline/deadband/Deadband.ts';
import { DeadbandState } from '../../../../src/pipeline/deadband/DeadbandState.ts';

const memory = (text: string): FieldMemory => ({ text, number: Number(text), writtenAt: 0, heldText: undefined, heldAt: 0 });

describe('DeadbandState', () => {
  it('keeps at most capacity entries, forgets the least recently used first, and counts evictions', () => {
    const state = new DeadbandState(2);
    state.set('a', memory('1'));
    state.set('b', memory('2'));
    assert.equal(state.get('a')?.text, '1'); // a is now the most recently used
    state.set('c', memory('3'));
    assert.equal(state.size, 2);
    assert.equal(state.evictions, 1);
    assert.equal(state.get('b'), undefined, 'b was the least recently used');
    assert.equal(state.get('a')?.text, '1');
    assert.equal(state.get('c')?.text, '3');
  });

  it('counts on a counter it is given (the gateway’s outlives a reload)', () => {
    const counter = { evictions: 5 };
    const state = new DeadbandState(1, counter);
    state.set('a', memory('1'));
    state.set('b', memory('1'));
    assert.equal(counter.evictions, 6);
  });

  it('refuses a capacity below 1', () => {
    assert.throws(() => new DeadbandState(0), RangeError);
  });
});
