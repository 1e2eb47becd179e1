import { MlcacheError } from '../../src/errors.js';

/** The MlcacheError `run` throws. Any other error is rethrown; returning normally fails the test. */
export function mlcacheErrorFrom(run: () => unknown): MlcacheError {
  try {
    run();
  } catch (error) {
    if (error instanceof MlcacheError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

/** The MlcacheError `promise` rejects with. Any other error is rethrown; resolving fails the test. */
export async function mlcacheRejectionFrom(promise: Promise<unknown>): Promise<MlcacheError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MlcacheError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}
