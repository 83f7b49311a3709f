import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors/ConfigError.ts';

/** The ConfigError that `load` throws; fails the test when it throws something else or nothing. */
export function configFailure(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}
