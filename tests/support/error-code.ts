import { ParleyError } from '../../app/shared/errors.js';

/** The ParleyError code a synchronous action throws; undefined when it returns, a marker when it throws something else. */
export function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof ParleyError ? error.code : 'not a ParleyError';
  }
  return undefined;
}
