import assert from 'node:assert/strict';
import { JobError } from '../../lib/errors.ts';

/** The JobError `fn` throws; fails the test when it throws nothing or something else. */
export function thrown(fn: () => unknown): JobError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof JobError, `expected a JobError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a JobError');
}

/** The JobError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function rejected(promise: Promise<unknown>): Promise<JobError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JobError, `expected a JobError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the scrape to fail');
}
